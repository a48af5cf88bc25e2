"""All SQL of the account: its row, its plan and its time zone."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from segment_runtime.db import Connection


async def ensure_account(conn: Connection, account_id: UUID) -> None:
    """Accounts come from the identity provider; the first write provisions the row."""
    await conn.execute(
        "INSERT INTO accounts (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        account_id,
        f"account {account_id.hex[:8]}",
    )


async def set_plan(conn: Connection, account_id: UUID, plan: str) -> None:
    await ensure_account(conn, account_id)
    await conn.execute("UPDATE accounts SET plan = $2 WHERE id = $1", account_id, plan)


async def account_plan(conn: Connection, account_id: UUID) -> str:
    plan = await conn.fetchval("SELECT plan FROM accounts WHERE id = $1", account_id)
    return str(plan) if plan else "standard"


async def account_time_zone(conn: Connection, account_id: UUID) -> str:
    zone = await conn.fetchval("SELECT time_zone FROM accounts WHERE id = $1", account_id)
    return str(zone) if zone else "UTC"


@dataclass(frozen=True)
class Schedule:
    """The account's refresh schedule, its zone and its cost threshold per refresh."""

    cron: str
    time_zone: str
    threshold_bytes: int


async def refresh_schedule(conn: Connection, account_id: UUID) -> Schedule:
    row = await conn.fetchrow(
        "SELECT refresh_cron, time_zone, cost_threshold_bytes FROM accounts WHERE id = $1",
        account_id,
    )
    if row is None:
        return Schedule("0 8 * * *", "UTC", 0)
    return Schedule(row["refresh_cron"], row["time_zone"], int(row["cost_threshold_bytes"]))
