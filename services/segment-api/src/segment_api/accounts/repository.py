"""All SQL of the account: its row, its plan and its time zone."""

from __future__ import annotations

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
