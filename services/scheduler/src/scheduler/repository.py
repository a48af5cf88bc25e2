"""All SQL the scheduler runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from segment_runtime.db import Connection


@dataclass(frozen=True)
class AccountSchedule:
    id: UUID
    time_zone: str
    refresh_cron: str


async def accounts(conn: Connection) -> list[AccountSchedule]:
    rows = await conn.fetch("SELECT id, time_zone, refresh_cron FROM accounts ORDER BY id")
    return [AccountSchedule(**dict(r)) for r in rows]


async def start_run(
    conn: Connection, run_id: UUID, account_id: UUID, scheduled_for: datetime, trigger: str
) -> bool:
    """Claims the run; False if this tick already ran (another instance, or a restart)."""
    count = await conn.fetchval(
        "SELECT count(*) FROM segments WHERE account_id = $1 AND status = 'active'", account_id
    )
    inserted = await conn.fetchval(
        "INSERT INTO refresh_runs (id, account_id, scheduled_for, trigger, segment_count)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        run_id,
        account_id,
        scheduled_for,
        trigger,
        count,
    )
    return bool(inserted)


async def refreshable_segments(conn: Connection, account_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT id FROM segments WHERE account_id = $1 AND status = 'active'"
        " ORDER BY created_at, id",
        account_id,
    )
    return [r["id"] for r in rows]
