"""A member's bucket in SQL: its slot is a hash of the segment's seed and its id, and a
bucket is the slots its layout gives it (`contracts.splits`). The seed and every slot
bound are query parameters, so one statement serves any layout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from contracts.splits import SLOTS, Bucket, Split

Add = Callable[[Any], exp.Expr]


def slot(member_id: exp.Expr, seed: exp.Expr) -> exp.Expr:
    """MOD(MOD(FARM_FINGERPRINT(CONCAT(seed, ':', id)), SLOTS) + SLOTS, SLOTS): BigQuery's
    MOD keeps the sign of a negative fingerprint, so it is brought back into range."""
    text = exp.Cast(this=member_id, to=exp.DataType.build("STRING"))
    fingerprint = exp.Anonymous(
        this="FARM_FINGERPRINT",
        expressions=[exp.Concat(expressions=[seed, exp.Literal.string(":"), text])],
    )
    n = exp.Literal.number(SLOTS)
    inner = exp.Mod(this=fingerprint, expression=n)
    return exp.Mod(
        this=exp.Paren(this=exp.Add(this=inner, expression=n.copy())), expression=n.copy()
    )


def in_bucket(member_id: exp.Expr, split: Split, bucket: Bucket, add: Add) -> exp.Expr:
    """Whether the member falls in one of the bucket's slot ranges."""
    at = slot(member_id, add(split.seed))
    ranges = [
        exp.and_(
            exp.GTE(this=at.copy(), expression=add(start)),
            exp.LT(this=at.copy(), expression=add(end)),
        )
        for start, end in bucket.ranges
    ]
    return exp.Paren(this=exp.or_(*ranges)) if len(ranges) > 1 else ranges[0]


def bucket_of(member_id: exp.Expr, split: Split, add: Add) -> exp.Expr:
    """The member's bucket name (a CASE over the buckets' ranges)."""
    return exp.Case(
        ifs=[
            exp.If(this=in_bucket(member_id, split, b, add), true=add(b.name))
            for b in split.buckets
        ]
    )
