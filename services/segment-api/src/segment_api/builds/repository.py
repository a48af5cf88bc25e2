"""The gateway's reads of build records (written by the scheduler)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from segment_runtime.db import Connection


async def builds_of(
    conn: Connection, account_id: UUID, segment_id: UUID, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, state, cause, mode, run_id, origin_segment_id, rules_version, reason, job_id,"
        " requested_at, submitted_at, started_at, finished_at, duration_ms, member_count,"
        " entered, exited, bytes_billed, build_time, anomaly, waiting"
        " FROM build_log WHERE segment_id = $1 AND account_id = $2"
        " ORDER BY requested_at DESC LIMIT $3",
        segment_id,
        account_id,
        limit,
    )
    return [dict(r) for r in rows]


async def run(conn: Connection, account_id: UUID, run_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT r.id, r.trigger, r.state, r.scheduled_for, r.started_at, r.finished_at,"
        " coalesce((SELECT jsonb_object_agg(state, n) FROM (SELECT state, count(*) AS n"
        "   FROM build_log WHERE run_id = r.id GROUP BY state) c), '{}'::jsonb) AS counts"
        " FROM refresh_run_log r WHERE r.id = $1 AND r.account_id = $2",
        run_id,
        account_id,
    )
    if row is None:
        return None
    values = dict(row)
    values["total"] = sum(values["counts"].values())
    return values


async def build_of(
    conn: Connection, account_id: UUID, segment_id: UUID, build_id: UUID
) -> dict[str, Any] | None:
    """One build of the segment: its state, the time it stamped and the size it left."""
    row = await conn.fetchrow(
        "SELECT id, state, build_time, member_count FROM build_log"
        " WHERE id = $1 AND segment_id = $2 AND account_id = $3",
        build_id,
        segment_id,
        account_id,
    )
    return dict(row) if row else None


async def build_history(
    conn: Connection, segment_id: UUID, since: datetime
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, finished_at, member_count, entered, exited, anomaly FROM build_log"
        " WHERE segment_id = $1 AND state = 'done' AND finished_at >= $2 ORDER BY finished_at",
        segment_id,
        since,
    )
    return [dict(r) for r in rows]
