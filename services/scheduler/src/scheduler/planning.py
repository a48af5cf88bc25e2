"""When an account's refresh is due (pure). What builds in which order is `graph`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter


def due_tick(cron: str, time_zone: str, now: datetime, catch_up: timedelta) -> datetime | None:
    """The latest schedule tick at or before `now` (in the account's zone), if recent enough."""
    local_now = now.astimezone(ZoneInfo(time_zone))
    previous: datetime = croniter(cron, local_now + timedelta(seconds=1)).get_prev(datetime)
    if now - previous > catch_up:
        return None
    return previous
