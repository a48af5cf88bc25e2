"""All SQL the gateway runs against Postgres."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from contracts.splits import Split
from segment_api.shared.rows import SegmentRow
from segment_runtime.db import Connection

# A constant column list; the f-strings below interpolate nothing else. Segments are read
# through `segment_view`: the gateway's own row joined with the scheduler's build projection.
_COLUMNS = (
    "id, account_id, name, description, object_type, rules, rules_version, is_custom, status,"
    " build_status, built_at, member_count, last_error, created_by, created_at, updated_at,"
    " build_id, build_state, build_since, build_reason, build_cause, build_rules_version,"
    " build_waiting, split"
)


async def _read(conn: Connection, segment_id: UUID | None) -> SegmentRow:
    """A segment just written, read back with its build projection."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM segment_view WHERE id = $1",  # noqa: S608
        segment_id,
    )
    assert row is not None
    return SegmentRow.model_validate(dict(row))


async def insert_segment(
    conn: Connection,
    *,
    segment_id: UUID,
    account_id: UUID,
    name: str,
    description: str | None,
    object_type: str,
    rules: dict[str, Any] | None,
    created_by: str,
    split: dict[str, Any] | None = None,
) -> SegmentRow:
    await conn.execute(
        "INSERT INTO segments (id, account_id, name, description, object_type, rules,"
        " created_by, split) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        segment_id,
        account_id,
        name,
        description,
        object_type,
        rules,
        created_by,
        split,
    )
    return await _read(conn, segment_id)


async def get_segment(conn: Connection, account_id: UUID, segment_id: UUID) -> SegmentRow | None:
    # Scoped by account in SQL: another tenant's segment is simply not there.
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM segment_view WHERE id = $1 AND account_id = $2",  # noqa: S608
        segment_id,
        account_id,
    )
    return SegmentRow.model_validate(dict(row)) if row else None


_SORTS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "name": "lower(name)",
    "member_count": "member_count",
}


async def list_segments(
    conn: Connection,
    account_id: UUID,
    *,
    created_by: str | None,
    search: str | None,
    status: str | None,
    object_type: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[SegmentRow], int]:
    # The ORDER BY comes from a fixed map; every value the caller sent is a parameter.
    column = _SORTS[sort.lstrip("-")]
    direction = "DESC" if sort.startswith("-") else "ASC"
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, count(*) OVER () AS total FROM segment_view"  # noqa: S608
        " WHERE account_id = $1 AND ($2::text IS NULL OR created_by = $2)"
        " AND ($3::text IS NULL OR strpos(lower(name), lower($3)) > 0)"
        " AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR object_type = $5)"
        " AND ($6::timestamptz IS NULL OR created_at >= $6)"
        " AND ($7::timestamptz IS NULL OR created_at <= $7)"
        f" ORDER BY is_custom, {column} {direction} NULLS LAST, id LIMIT $8 OFFSET $9",
        account_id,
        created_by,
        search,
        status,
        object_type,
        created_from,
        created_to,
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else 0
    return [SegmentRow.model_validate(dict(r)) for r in rows], int(total)


async def ensure_default_segment(conn: Connection, account_id: UUID) -> SegmentRow | None:
    """The account's "All Data" segment; returns it only when it was just created."""
    created = await conn.fetchval(
        "INSERT INTO segments (id, account_id, name, object_type, rules, is_custom, created_by)"
        " VALUES ($1, $2, 'All Data', 'customer', NULL, false, 'system')"
        " ON CONFLICT DO NOTHING RETURNING id",
        uuid4(),
        account_id,
    )
    return await _read(conn, created) if created else None


async def active_segments(conn: Connection, account_id: UUID) -> list[SegmentRow]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM segment_view WHERE account_id = $1 AND status = 'active'"  # noqa: S608
        " ORDER BY created_at, id",
        account_id,
    )
    return [SegmentRow.model_validate(dict(r)) for r in rows]


async def lock_embeddings(conn: Connection, account_id: UUID) -> None:
    """Serializes the account's writes that change embeddings, so that two concurrent
    edits cannot each pass the cycle check and together close a cycle."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 42))", str(account_id))


async def embedding_graph(conn: Connection, account_id: UUID) -> dict[UUID, set[UUID]]:
    rows = await conn.fetch(
        "SELECT e.parent_id, e.child_id FROM segment_embeddings e"
        " JOIN segments s ON s.id = e.parent_id WHERE s.account_id = $1",
        account_id,
    )
    graph: dict[UUID, set[UUID]] = {}
    for r in rows:
        graph.setdefault(r["parent_id"], set()).add(r["child_id"])
    return graph


async def segment_kinds(
    conn: Connection, account_id: UUID, ids: list[UUID], *, created_by: str | None
) -> dict[UUID, tuple[str, str]]:
    """Object type and status of those of `ids` the caller may see (`created_by` is the
    owner filter of an owned-view user): the others read as absent."""
    rows = await conn.fetch(
        "SELECT id, object_type, status FROM segments WHERE account_id = $1 AND id = ANY($2)"
        " AND ($3::text IS NULL OR created_by = $3)",
        account_id,
        ids,
        created_by,
    )
    return {r["id"]: (r["object_type"], r["status"]) for r in rows}


async def set_embeddings(conn: Connection, parent_id: UUID, children: list[UUID]) -> None:
    await conn.execute("DELETE FROM segment_embeddings WHERE parent_id = $1", parent_id)
    await conn.execute(
        "INSERT INTO segment_embeddings (parent_id, child_id) SELECT $1, unnest($2::uuid[])",
        parent_id,
        children,
    )


async def embedding_parents(conn: Connection, child_id: UUID) -> list[tuple[str, str | None]]:
    """Name and creator of each segment embedding `child_id`."""
    rows = await conn.fetch(
        "SELECT s.name, s.created_by FROM segment_embeddings e"
        " JOIN segments s ON s.id = e.parent_id WHERE e.child_id = $1 ORDER BY s.name",
        child_id,
    )
    return [(r["name"], r["created_by"]) for r in rows]


async def lock_segment(conn: Connection, account_id: UUID, segment_id: UUID) -> SegmentRow | None:
    locked = await conn.fetchval(
        "SELECT id FROM segments WHERE id = $1 AND account_id = $2 FOR UPDATE",
        segment_id,
        account_id,
    )
    return await _read(conn, locked) if locked else None


async def update_segment(
    conn: Connection,
    segment_id: UUID,
    *,
    name: str,
    description: str | None,
    rules: dict[str, Any] | None,
    rules_changed: bool,
    split: dict[str, Any] | None,
) -> SegmentRow:
    await conn.execute(
        "UPDATE segments SET name = $2, description = $3, rules = $4, updated_at = now(),"
        " rules_version = rules_version + $5::int, split = $6 WHERE id = $1",
        segment_id,
        name,
        description,
        rules,
        1 if rules_changed else 0,
        split,
    )
    return await _read(conn, segment_id)


async def splits_of(
    conn: Connection, account_id: UUID, ids: list[UUID], *, created_by: str | None
) -> dict[UUID, Split]:
    """The splits of those of `ids` that have one and the caller may see (as
    `segment_kinds`): another user's buckets are never named to them."""
    rows = await conn.fetch(
        "SELECT id, split FROM segments WHERE account_id = $1 AND id = ANY($2::uuid[])"
        " AND split IS NOT NULL AND ($3::text IS NULL OR created_by = $3)",
        account_id,
        ids,
        created_by,
    )
    return {r["id"]: Split.model_validate(r["split"]) for r in rows}


async def set_status(conn: Connection, segment_id: UUID, status: str) -> SegmentRow:
    await conn.execute(
        "UPDATE segments SET status = $2, updated_at = now() WHERE id = $1", segment_id, status
    )
    return await _read(conn, segment_id)


async def delete_segment(conn: Connection, segment_id: UUID) -> None:
    await conn.execute("DELETE FROM segments WHERE id = $1", segment_id)


async def free_copy_name(conn: Connection, account_id: UUID, name: str, limit: int) -> str:
    """'Copy of X', then 'Copy of X (2)', ... within the name length limit."""
    for n in range(1, 1000):
        suffix = "" if n == 1 else f" ({n})"
        candidate = f"Copy of {name}"[: limit - len(suffix)] + suffix
        taken = await conn.fetchval(
            "SELECT 1 FROM segments WHERE account_id = $1 AND lower(name) = lower($2)"
            " AND status = 'active'",
            account_id,
            candidate,
        )
        if not taken:
            return candidate
    raise RuntimeError("no free copy name")


async def count_active_custom(conn: Connection, account_id: UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM segments WHERE account_id = $1 AND is_custom"
            " AND status = 'active'",
            account_id,
        )
    )
