"""The schedule: each account's refresh run starts at its cron tick, in its time zone."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from scheduler import repository
from scheduler.builds import BuildOwner
from scheduler.planning import due_tick
from segment_runtime.db import Pool

log = structlog.get_logger(__name__)


class RefreshSchedule:
    def __init__(self, pool: Pool, owner: BuildOwner, *, catch_up: timedelta) -> None:
        self._pool = pool
        self._owner = owner
        self._catch_up = catch_up

    async def tick(self, now: datetime) -> int:
        """Start a run for every account whose schedule is due; returns how many started."""
        started = 0
        async with self._pool.acquire() as conn:
            schedules = await repository.accounts(conn)
        for account in schedules:
            scheduled_for = due_tick(
                account.refresh_cron, account.time_zone, now, self._catch_up, account.created_at
            )
            if scheduled_for is not None and await self._owner.start_refresh(
                account.id, scheduled_for, "schedule"
            ):
                started += 1
        return started
