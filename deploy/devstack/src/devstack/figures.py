"""What the benchmarks print: percentiles by nearest rank, so a p95 is always one of the
measured values and never above the maximum (an interpolating quantile can be)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def nearest_rank(values: Sequence[float], pct: float) -> float:
    """The smallest value with at least `pct` % of the values at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
