"""All SQL the gateway runs against Postgres."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from segment_runtime.db import Connection

# A constant column list; the f-strings below interpolate nothing else.
_COLUMNS = (
    "id, account_id, name, description, object_type, rules, rules_version, is_custom, status,"
    " build_status, built_at, member_count, last_error, created_by, created_at, updated_at"
)


async def ensure_account(conn: Connection, account_id: UUID) -> None:
    """Accounts come from the identity provider; the first write provisions the row."""
    await conn.execute(
        "INSERT INTO accounts (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        account_id,
        f"account {account_id.hex[:8]}",
    )


async def insert_segment(
    conn: Connection,
    *,
    segment_id: UUID,
    account_id: UUID,
    name: str,
    description: str | None,
    object_type: str,
    rules: dict[str, Any],
    created_by: str,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO segments (id, account_id, name, description, object_type, rules,"  # noqa: S608
        " created_by, build_status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'in_progress')"
        f" RETURNING {_COLUMNS}",
        segment_id,
        account_id,
        name,
        description,
        object_type,
        rules,
        created_by,
    )
    assert row is not None
    return dict(row)


async def get_segment(
    conn: Connection, account_id: UUID, segment_id: UUID
) -> dict[str, Any] | None:
    # Scoped by account in SQL: another tenant's segment is simply not there.
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM segments WHERE id = $1 AND account_id = $2",  # noqa: S608
        segment_id,
        account_id,
    )
    return dict(row) if row else None


async def list_segments(
    conn: Connection, account_id: UUID, *, created_by: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS}, count(*) OVER () AS total FROM segments"  # noqa: S608
        " WHERE account_id = $1 AND ($2::text IS NULL OR created_by = $2)"
        " ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
        account_id,
        created_by,
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else 0
    return [dict(r) for r in rows], int(total)


async def account_plan(conn: Connection, account_id: UUID) -> str:
    plan = await conn.fetchval("SELECT plan FROM accounts WHERE id = $1", account_id)
    return str(plan) if plan else "standard"
