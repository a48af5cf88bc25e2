"""All SQL of segments applied to reports. A sticky application has report_name ''."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from segment_runtime.db import Connection

STICKY = ""


# The owner filter of an owned-view user (NULL: the whole account), on the applied segment.
_VISIBLE = (
    "({p}::text IS NULL OR EXISTS (SELECT 1 FROM segments s"
    " WHERE s.id = segment_reports.segment_id AND s.created_by = {p}))"
)


async def applied(
    conn: Connection, account_id: UUID, user_id: str, report: str, *, created_by: str | None
) -> list[dict[str, Any]]:
    """The user's applied segments that they may still see (`created_by`: owner filter)."""
    rows = await conn.fetch(
        "SELECT r.segment_id, r.report_name, r.apply_chart, s.name, s.object_type,"
        " s.built_at IS NOT NULL AS built FROM segment_reports r"
        " JOIN segment_view s ON s.id = r.segment_id"
        " WHERE r.account_id = $1 AND r.user_id = $2 AND r.report_name IN ($3, '')"
        " AND s.status = 'active' AND ($4::text IS NULL OR s.created_by = $4)"
        " ORDER BY (r.report_name = '') DESC, r.position, r.created_at",
        account_id,
        user_id,
        report,
        created_by,
    )
    return [dict(r) for r in rows]


async def replace(
    conn: Connection, account_id: UUID, user_id: str, report: str, segment_ids: list[UUID]
) -> None:
    await conn.execute(
        "DELETE FROM segment_reports WHERE account_id = $1 AND user_id = $2 AND report_name = $3",
        account_id,
        user_id,
        report,
    )
    await conn.execute(
        "INSERT INTO segment_reports (account_id, user_id, report_name, segment_id, position)"
        " SELECT $1, $2, $3, id, pos FROM unnest($4::uuid[]) WITH ORDINALITY AS t(id, pos)",
        account_id,
        user_id,
        report,
        segment_ids,
    )


async def remove(
    conn: Connection,
    account_id: UUID,
    user_id: str,
    report: str,
    segment_id: UUID,
    *,
    created_by: str | None,
) -> int:
    status = await conn.execute(
        "DELETE FROM segment_reports WHERE account_id = $1 AND user_id = $2"  # noqa: S608
        " AND report_name IN ($3, '') AND segment_id = $4"
        f" AND {_VISIBLE.format(p='$5')}",
        account_id,
        user_id,
        report,
        segment_id,
        created_by,
    )
    return int(status.split()[-1])


async def set_chart(
    conn: Connection,
    account_id: UUID,
    user_id: str,
    report: str,
    segment_id: UUID,
    *,
    apply_chart: bool,
    created_by: str | None,
) -> int:
    status = await conn.execute(
        "UPDATE segment_reports SET apply_chart = $5 WHERE account_id = $1"  # noqa: S608
        " AND user_id = $2 AND report_name IN ($3, '') AND segment_id = $4"
        f" AND {_VISIBLE.format(p='$6')}",
        account_id,
        user_id,
        report,
        segment_id,
        apply_chart,
        created_by,
    )
    return int(status.split()[-1])
