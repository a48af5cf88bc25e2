from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.schedule import due_tick

HOUR = timedelta(hours=1)


def test_the_tick_is_in_the_accounts_time_zone():
    # 08:00 in Jakarta (UTC+7) is 01:00 UTC
    now = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert due_tick("0 8 * * *", "Asia/Jakarta", now, HOUR) == datetime(
        2026, 3, 1, 1, 0, tzinfo=UTC
    )
    assert due_tick("0 8 * * *", "UTC", now, HOUR) is None  # 08:00 UTC was 17.5 h ago


def test_a_tick_exactly_now_is_due():
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert due_tick("0 8 * * *", "UTC", now, HOUR) == now


def test_a_missed_tick_older_than_the_catch_up_window_is_skipped():
    now = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert due_tick("0 8 * * *", "UTC", now, HOUR) is None
    assert due_tick("0 8 * * *", "UTC", now, 3 * HOUR) is not None


def test_daylight_saving_keeps_the_local_hour():
    # New York: 08:00 local is 13:00 UTC in winter, 12:00 UTC in summer
    assert (
        due_tick("0 8 * * *", "America/New_York", datetime(2026, 1, 15, 13, 5, tzinfo=UTC), HOUR)
        is not None
    )
    assert (
        due_tick("0 8 * * *", "America/New_York", datetime(2026, 7, 15, 12, 5, tzinfo=UTC), HOUR)
        is not None
    )


def test_a_tick_before_the_account_existed_is_not_caught_up():
    # Made at 08:20 with a daily 08:00 schedule: its first run is tomorrow's.
    now = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    made = datetime(2026, 3, 1, 8, 20, tzinfo=UTC)
    assert due_tick("0 8 * * *", "UTC", now, HOUR, since=made) is None
    assert due_tick("0 8 * * *", "UTC", now, HOUR, since=made - HOUR) is not None
