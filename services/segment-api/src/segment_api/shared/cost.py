"""Cost before save: the bytes a build and one refresh of some rules would process (the
warehouse's dry run of the membership query they both run), the refreshes the account's
schedule makes in a month, and the account's cost threshold beside them: a refresh that
would process more than it is skipped (the scheduler's rule), so the builder can warn
before saving."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from croniter import croniter
from pydantic import BaseModel, Field

from segment_api.accounts.repository import Schedule
from segment_api.shared.ports import DryRunResult

MONTH = timedelta(days=30)
MAX_RUNS = 50_000  # a schedule every minute runs 43,200 times in 30 days


class CostOut(BaseModel):
    bytes_per_build: int | None = Field(description="What a build would process (dry run).")
    bytes_per_refresh: int | None = Field(
        description="What each refresh would process: the same query as a build."
    )
    refreshes_per_month: int = Field(description="Runs of the account's schedule in 30 days.")
    bytes_per_month: int | None = Field(description="A refresh's bytes times the runs.")
    threshold_bytes: int = Field(description="The account's cost threshold per refresh.")
    would_be_skipped: bool = Field(
        description="A refresh over the threshold is skipped: warn before saving."
    )


def refreshes_in_a_month(cron: str, time_zone: str, now: datetime) -> int:
    """How many times the schedule fires in the 30 days from `now`, in the account's zone."""
    # Cron fires on whole minutes, so the count is the minute's: every preview and
    # validation of that minute shares one walk (an hourly schedule is 720 steps).
    return _runs(cron, time_zone, now.replace(second=0, microsecond=0))


@lru_cache(maxsize=256)
def _runs(cron: str, time_zone: str, minute: datetime) -> int:
    start = minute.astimezone(ZoneInfo(time_zone))
    runs = croniter(cron, start)
    count = 0
    while count < MAX_RUNS and runs.get_next(datetime) <= start + MONTH:
        count += 1
    return count


def of(dry: DryRunResult, schedule: Schedule, now: datetime) -> CostOut:
    """The cost of the statement a dry run measured, at the account's schedule."""
    per_run = dry.bytes_processed if dry.ok else None
    runs = refreshes_in_a_month(schedule.cron, schedule.time_zone, now)
    return CostOut(
        bytes_per_build=per_run,
        bytes_per_refresh=per_run,
        refreshes_per_month=runs,
        bytes_per_month=None if per_run is None else per_run * runs,
        threshold_bytes=schedule.threshold_bytes,
        would_be_skipped=per_run is not None and per_run > schedule.threshold_bytes,
    )
