"""When an account's refresh is due (pure). What builds in which order is `graph`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter


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
