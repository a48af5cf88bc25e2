"""Pure planning: when an account is due, and in which order its segments refresh."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from croniter import croniter


def due_tick(cron: str, time_zone: str, now: datetime, catch_up: timedelta) -> datetime | None:
    """The latest schedule tick at or before `now` (in the account's zone), if recent enough."""
    local_now = now.astimezone(ZoneInfo(time_zone))
    previous: datetime = croniter(cron, local_now + timedelta(seconds=1)).get_prev(datetime)
    if now - previous > catch_up:
        return None
    return previous


def plan_refresh(segment_ids: Sequence[UUID]) -> list[list[UUID]]:
    """Levels of segments; each level may start once the previous one is done.

    Seam: every segment is one level until embedding lands; then this becomes the
    topological order (a segment after everything it embeds).
    """
    return [list(segment_ids)] if segment_ids else []
