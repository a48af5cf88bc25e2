"""A split's layout: every slot has one bucket, each bucket its share, and a change of
percentages moves no slot but those it must."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts.splits import SLOTS, Split, SplitIn, layout


def owners(split: Split) -> list[str]:
    slots = [""] * SLOTS
    for b in split.buckets:
        for start, end in b.ranges:
            for i in range(start, end):
                assert slots[i] == "", "a slot with two buckets"
                slots[i] = b.name
    assert "" not in slots, "a slot with no bucket"
    return slots


def split_in(shares: dict[str, int]) -> SplitIn:
    return SplitIn.model_validate(
        {"buckets": [{"name": n, "percent": Decimal(p) / 100} for n, p in shares.items()]}
    )


# Shares in slots (hundredths of a percent), over names drawn from a few, summing to all.
NAMES = ["A", "B", "C", "holdout", "D"]


@st.composite
def shares(draw: st.DrawFn) -> dict[str, int]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=5, unique=True))
    cuts = sorted(
        draw(
            st.lists(
                st.integers(1, SLOTS - 1),
                min_size=len(names) - 1,
                max_size=len(names) - 1,
                unique=True,
            )
        )
    )
    edges = [0, *cuts, SLOTS]
    return {n: edges[i + 1] - edges[i] for i, n in enumerate(names)}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(steps=st.lists(shares(), min_size=1, max_size=5))
def test_each_change_moves_only_the_slots_it_must(steps):
    split = layout(split_in(steps[0]))
    assert all(b.slots == steps[0][b.name] for b in split.buckets)
    for before_shares, after_shares in itertools.pairwise(steps):
        before = owners(split)
        split = layout(split_in(after_shares), split)
        after = owners(split)
        assert {b.name: b.slots for b in split.buckets} == after_shares
        moved = sum(1 for x, y in zip(before, after, strict=True) if x != y)
        must = sum(max(0, n - after_shares.get(name, 0)) for name, n in before_shares.items())
        assert moved == must
        # a slot moves only out of a bucket that shrank or went
        assert all(
            x == y or after_shares.get(x, 0) < before_shares[x]
            for x, y in zip(before, after, strict=True)
        )


def test_the_seed_is_the_segments_own_and_kept_across_edits():
    first = layout(split_in({"A": 5000, "B": 5000}))
    again = layout(split_in({"A": 4000, "B": 6000}), first)
    other = layout(split_in({"A": 5000, "B": 5000}))
    assert again.seed == first.seed
    assert other.seed != first.seed


@pytest.mark.parametrize(
    ("buckets", "problem"),
    [
        ([{"name": "A", "percent": 50}, {"name": "B", "percent": 40}], "buckets"),
        ([{"name": "A", "percent": 50}, {"name": "a", "percent": 50}], "buckets[1].name"),
    ],
)
def test_a_split_that_cannot_be_names_its_problem_and_has_no_layout(buckets, problem):
    wanted = SplitIn.model_validate({"buckets": buckets})
    assert [path for path, _, _ in wanted.problems()] == [problem]
    with pytest.raises(ValueError, match=r"not 100|must differ"):
        layout(wanted)


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        ([{"name": "A", "percent": 100}], "at least 2"),
        ([{"name": "A", "percent": 50.005}, {"name": "B", "percent": 49.995}], "decimal"),
        ([{"name": "<script>", "percent": 50}, {"name": "B", "percent": 50}], "pattern"),
    ],
)
def test_a_split_that_cannot_be_is_refused(buckets, message):
    with pytest.raises(ValidationError, match=message):
        SplitIn.model_validate({"buckets": buckets})
