"""How many refreshes a schedule makes in a month, in the account's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from segment_api.shared.cost import refreshes_in_a_month

NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "zone", "runs"),
    [
        ("0 8 * * *", "UTC", 30),
        ("0 * * * *", "UTC", 720),
        ("0 8 * * 1", "Asia/Jakarta", 4),  # Mondays from Monday 12:00 in Jakarta: 4 more
        ("0 8 1 * *", "UTC", 1),
        ("*/15 * * * *", "UTC", 2880),
    ],
)
def test_a_schedule_runs_so_many_times_in_thirty_days(cron, zone, runs):
    assert refreshes_in_a_month(cron, zone, NOW) == runs
