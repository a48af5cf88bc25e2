"""Test set-up: record a build as the scheduler would (its `builds` row and the projection)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from contracts.clock import SYSTEM_CLOCK
from segment_runtime.db import Connection


async def record_build(
    conn: Connection,
    segment_id: UUID,
    *,
    state: str = "done",
    member_count: int | None = None,
    built_at: datetime | None = None,
    bytes_billed: int | None = None,
    entered: int | None = None,
    exited: int | None = None,
    reason: str | None = None,
    cause: str = "create",
    build_id: UUID | None = None,
    build_time: datetime | None = None,
) -> UUID:
    account_id, version = await conn.fetchrow(
        "SELECT account_id, rules_version FROM segments WHERE id = $1", segment_id
    )
    at = built_at or SYSTEM_CLOCK.now()
    build_id = build_id or uuid4()
    await conn.execute(
        "INSERT INTO builds (id, account_id, segment_id, cause, mode, rules_version, state, reason,"
        " requested_at, updated_at, finished_at, member_count, bytes_billed, entered, exited,"
        " build_time)"
        " VALUES ($1, $2, $3, $4, 'build', $5, $6, $7, $8, $8, $8, $9, $10, $11, $12, $13)",
        build_id,
        account_id,
        segment_id,
        cause,
        version,
        state,
        reason,
        at,
        member_count,
        bytes_billed,
        entered,
        exited,
        build_time,
    )
    done = state == "done"
    await conn.execute(
        "INSERT INTO segment_build_state (segment_id, account_id, build_id, state, cause, reason,"
        " since, rules_version, built_at, built_version, member_count, bytes_billed)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT (segment_id) DO UPDATE SET build_id = excluded.build_id,"
        " state = excluded.state, reason = excluded.reason, since = excluded.since,"
        " built_at = coalesce(excluded.built_at, segment_build_state.built_at),"
        " member_count = coalesce(excluded.member_count, segment_build_state.member_count),"
        " bytes_billed = coalesce(excluded.bytes_billed, segment_build_state.bytes_billed)",
        segment_id,
        account_id,
        build_id,
        state,
        cause,
        reason,
        at,
        version,
        at if done else None,
        version if done else None,
        member_count if done else None,
        bytes_billed if done else None,
    )
    return build_id
