"""Splits and holdouts: a segment's members divided into named buckets by percentage.

A member's bucket is a deterministic hash of its id and the segment's own seed, mapped
onto 10,000 slots: so it never changes while the member stays, it is independent of any
other segment's split, and the buckets hold their shares within sampling error. Each
bucket owns ranges of slots (its layout). When the percentages change, a shrinking
bucket gives up only the slots it must and a growing one takes only those freed, so no
member moves but those the change requires; a new bucket takes freed slots, a removed
one frees all of its own. The SQL that maps a member to a slot is `compiler.splits`.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

SLOTS = 10_000  # 0.01 % per slot
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,39}$"

BucketName = Annotated[
    str,
    Field(pattern=NAME_PATTERN, description="Letters, digits, spaces, _ and -.", examples=["A"]),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class BucketIn(_Frozen):
    name: BucketName
    percent: Decimal = Field(
        gt=0, le=100, decimal_places=2, description="Share of the members.", examples=[45]
    )


class SplitIn(_Frozen):
    """The buckets a segment's members are divided into; percentages sum to 100."""

    buckets: list[BucketIn] = Field(
        min_length=2,
        max_length=20,
        description="In order; the plan caps how many.",
        examples=[
            [
                {"name": "A", "percent": 45},
                {"name": "B", "percent": 45},
                {"name": "holdout", "percent": 10},
            ]
        ],
    )

    def problems(self) -> list[tuple[str, str, str]]:
        """(path under the split, code, message) of what makes it no split: a name used
        twice (case aside), or percentages that do not sum to 100."""
        found: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for i, b in enumerate(self.buckets):
            if b.name.lower() in seen:
                found.append(
                    (f"buckets[{i}].name", "bucket_name_taken", "bucket names must differ")
                )
            seen.add(b.name.lower())
        total = sum(b.percent for b in self.buckets)
        if total != 100:
            found.append(("buckets", "percentages_not_100", f"percentages sum to {total}, not 100"))
        return found


class Bucket(_Frozen):
    name: str
    percent: Decimal
    ranges: list[tuple[int, int]] = Field(description="Its slots: [start, end) pairs.")

    @property
    def slots(self) -> int:
        return sum(end - start for start, end in self.ranges)


class Split(_Frozen):
    """A split as stored: its seed and each bucket's slots."""

    seed: str = Field(description="Hashing salt, the segment's own.")
    buckets: list[Bucket]

    def bucket(self, name: str) -> Bucket | None:
        return next((b for b in self.buckets if b.name == name), None)


def _units(percent: Decimal) -> int:
    return int(percent * SLOTS / 100)


def _take(
    ranges: list[tuple[int, int]], units: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Split `ranges` into what keeps `units` slots (from the start) and what is freed."""
    kept: list[tuple[int, int]] = []
    freed: list[tuple[int, int]] = []
    for start, end in ranges:
        room = units - sum(e - s for s, e in kept)
        if room >= end - start:
            kept.append((start, end))
        elif room > 0:
            kept.append((start, start + room))
            freed.append((start + room, end))
        else:
            freed.append((start, end))
    return kept, freed


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def layout(wanted: SplitIn, previous: Split | None = None) -> Split:
    """The slots of each wanted bucket, moving as few as the change requires."""
    if wanted.problems():
        raise ValueError("; ".join(message for _, _, message in wanted.problems()))
    before = {b.name: b.ranges for b in previous.buckets} if previous else {}
    kept: dict[str, list[tuple[int, int]]] = {}
    pool: list[tuple[int, int]] = []
    for name, ranges in before.items():
        if name not in {b.name for b in wanted.buckets}:
            pool += ranges
    if not previous:
        pool = [(0, SLOTS)]
    for b in wanted.buckets:
        kept[b.name], freed = _take(before.get(b.name, []), _units(b.percent))
        pool += freed
    pool = _merged(pool)
    for b in wanted.buckets:
        short = _units(b.percent) - sum(e - s for s, e in kept[b.name])
        taken, pool = _take(pool, short)
        kept[b.name] = _merged(kept[b.name] + taken)
    return Split(
        seed=previous.seed if previous else secrets.token_hex(8),
        buckets=[
            Bucket(name=b.name, percent=b.percent, ranges=kept[b.name]) for b in wanted.buckets
        ],
    )
