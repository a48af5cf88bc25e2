"""Benchmark percentiles are nearest-rank: a value that was measured, never above the max."""

from __future__ import annotations

import pytest

from devstack.figures import nearest_rank


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([5.0], 95, 5.0),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10),
        ([10, 1, 7], 95, 10),  # unsorted in; never above the maximum
        (list(range(1, 101)), 99, 99),
        (list(range(1, 101)), 100, 100),
        ([3, 1, 2], 1, 1),
    ],
)
def test_nearest_rank(values, pct, expected):
    assert nearest_rank(values, pct) == expected


def test_no_values_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        nearest_rank([], 50)
