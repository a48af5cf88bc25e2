"""The anomaly rule as data: previous size, new size, thresholds → the reason or None."""

from __future__ import annotations

import pytest

from scheduler.anomalies import Thresholds, anomaly

DEFAULT = Thresholds()


@pytest.mark.parametrize(
    ("previous", "members", "thresholds", "expected"),
    [
        (None, 5_000, DEFAULT, None),  # a first build compares with nothing
        (1_000, 1_400, DEFAULT, None),  # +40 %: within ±50 %
        (1_000, 1_500, DEFAULT, None),  # exactly +50 % is not over it
        (
            1_000,
            1_501,
            DEFAULT,
            "grew 50 % (1,000 → 1,501 members), over the account's ±50 % threshold",
        ),
        (
            5_070,
            2_000,
            DEFAULT,
            "shrank 61 % (5,070 → 2,000 members), over the account's ±50 % threshold",
        ),
        (100, 10, DEFAULT, None),  # -90 % but only 90 members moved
        (200, 50, DEFAULT, "shrank 75 % (200 → 50 members), over the account's ±50 % threshold"),
        (7, 0, DEFAULT, "emptied: 7 members before, none now"),  # emptying always counts
        (0, 0, DEFAULT, None),
        (0, 150, DEFAULT, "grew from none to 150 members"),
        (0, 20, DEFAULT, None),
        (
            1_000,
            1_210,
            Thresholds(change_pct=20, min_changed=10),
            "grew 21 % (1,000 → 1,210 members), over the account's ±20 % threshold",
        ),
    ],
)
def test_anomaly(previous, members, thresholds, expected):
    assert anomaly(previous, members, thresholds) == expected
