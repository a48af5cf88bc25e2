"""The one clock. Every service asks it for the time, so tests can hold time still.

It lives in `contracts`, the lowest package, because a message's `time` is stamped
from it too. Nothing else in the platform calls `datetime.now` or `time.time`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...

    def today(self, time_zone: str) -> date:
        """The calendar date now in `time_zone` (an IANA name)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self, time_zone: str) -> date:
        return self.now().astimezone(ZoneInfo(time_zone)).date()


class FixedClock:
    """A clock that moves only when told (for tests)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a FixedClock needs a timezone-aware instant")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def today(self, time_zone: str) -> date:
        return self.at.astimezone(ZoneInfo(time_zone)).date()

    def advance(self, by: timedelta) -> None:
        self.at += by


SYSTEM_CLOCK = SystemClock()
