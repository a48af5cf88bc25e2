"""The schedule: each account's refresh run starts at its cron tick, in its time zone.

`due_tick` says when (pure); what a run builds, in which order, is `builds.refresh_runs`
and `builds.planning`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from croniter import croniter

from scheduler import repository
from scheduler.builds import BuildOwner
from segment_runtime.db import Pool

log = structlog.get_logger(__name__)


def due_tick(
    cron: str, time_zone: str, now: datetime, catch_up: timedelta, since: datetime | None = None
) -> datetime | None:
    """The latest schedule tick at or before `now` (in the account's zone), if recent enough.

    A tick before `since` (the account's creation) is not caught up: an account made at
    08:20 had no 08:00 refresh to miss, and running one would surprise its first user."""
    local_now = now.astimezone(ZoneInfo(time_zone))
    previous: datetime = croniter(cron, local_now + timedelta(seconds=1)).get_prev(datetime)
    if now - previous > catch_up or (since is not None and previous < since):
        return None
    return previous


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
