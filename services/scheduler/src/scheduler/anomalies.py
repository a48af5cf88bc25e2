"""When a committed build's size is suspicious: flagged on the build with the reason,
pushed and counted, never blocking it. A pure rule, so tests are data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """The account's: a size move of more than `change_pct` % that moved at least
    `min_changed` members (defaults: ±50 % and 100)."""

    change_pct: int = 50
    min_changed: int = 100


def anomaly(previous: int | None, members: int, thresholds: Thresholds) -> str | None:
    """Why this size after `previous` (the last committed build's) is an anomaly, or None.
    A first build has nothing to compare with; a non-empty segment that empties always is."""
    if previous is None:
        return None
    if members == 0 and previous > 0:
        return f"emptied: {previous:,} members before, none now"
    moved = abs(members - previous)
    if moved < max(thresholds.min_changed, 1):
        return None
    if previous == 0:
        return f"grew from none to {members:,} members"
    pct = moved * 100 / previous
    if pct <= thresholds.change_pct:
        return None
    way = "grew" if members > previous else "shrank"
    return (
        f"{way} {pct:.0f} % ({previous:,} → {members:,} members), "
        f"over the account's ±{thresholds.change_pct} % threshold"
    )
