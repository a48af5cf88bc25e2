"""Splits on the emulator: bucket sizes hold their shares on 100,000 members, two
segments' splits are independent, an edit moves only whom it must, a member keeps its
bucket across refreshes with churn, and a bucket embedded in other rules is exactly
that bucket's members."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from agreement import BUILD_DATE, BUILD_TIME, Warehouse
from google.cloud import bigquery
from sqlglot import exp

from compiler import statements
from compiler.splits import bucket_of
from compiler.sql import CompiledQuery, Target, compiled
from contracts.rules import RuleSet
from contracts.splits import Split, SplitIn, layout
from contracts.warehouse import MEMBER_ID_COLUMN, dataset_id, segment_table
from devstack.warehouse import load_rows
from segment_api.shared import member_queries
from segment_runtime.bigquery import to_query_parameters

N = 100_000
SHARES = {"A": 45, "B": 45, "holdout": 10}


def split_of(shares: dict[str, int], previous: Split | None = None, seed: str = "s1") -> Split:
    """A split with a fixed seed: a statistical test must give the same answer each run
    (a fresh random seed lands a cell past 3 standard deviations now and then)."""
    wanted = SplitIn.model_validate(
        {"buckets": [{"name": n, "percent": Decimal(p)} for n, p in shares.items()]}
    )
    laid = layout(wanted, previous)
    return laid if previous else laid.model_copy(update={"seed": seed})


def run(client: bigquery.Client, query: CompiledQuery) -> list[dict[str, Any]]:
    params = query.bind(at=BUILD_TIME, today=BUILD_DATE)
    config = bigquery.QueryJobConfig(query_parameters=to_query_parameters(params))
    return [dict(r) for r in client.query(query.sql, job_config=config).result()]


def buckets_of(
    client: bigquery.Client, target: Target, table: str, splits: list[Split]
) -> dict[str, tuple[str, ...]]:
    """Each member's bucket under each split, by member id."""
    values: dict[str, Any] = {}

    def add(value: Any) -> exp.Expr:
        name = f"v{len(values)}"
        values[name] = value
        return exp.Parameter(this=exp.Var(this=name))

    member = exp.column(MEMBER_ID_COLUMN, quoted=True)
    select = exp.select(
        member, *(exp.alias_(bucket_of(member, s, add), f"b{i}") for i, s in enumerate(splits))
    ).from_(target.table(table))
    query = compiled(select)
    rows = run(client, CompiledQuery(query.sql, values, query.runtime_params))
    return {r[MEMBER_ID_COLUMN]: tuple(r[f"b{i}"] for i in range(len(splits))) for r in rows}


@pytest.fixture(scope="module")
def many(emulator) -> tuple[bigquery.Client, Target, str]:
    """A member table of 100,000 ids."""
    client = emulator.client()
    account = uuid4()
    target = Target(client.project, dataset_id(account))
    client.create_dataset(f"{client.project}.{target.dataset}")
    table = "segment_many"
    created = bigquery.Table(
        target.name(table), schema=[bigquery.SchemaField(MEMBER_ID_COLUMN, "STRING")]
    )
    client.create_table(created)
    load_rows(client, target.name(table), ({MEMBER_ID_COLUMN: f"c{i}"} for i in range(N)))
    return client, target, table


def within_3_sd(count: int, share: float, n: int) -> bool:
    return abs(count - n * share) <= 3 * math.sqrt(n * share * (1 - share))


def test_bucket_sizes_hold_their_shares_and_two_splits_are_independent(many):
    client, target, table = many
    first, second = split_of(SHARES, seed="campaign-x"), split_of(SHARES, seed="campaign-y")
    counts = {
        r["bucket"]: r["n"] for r in run(client, member_queries.bucket_counts(target, table, first))
    }
    assert sum(counts.values()) == N
    for name, percent in SHARES.items():
        assert within_3_sd(counts[name], percent / 100, N), (name, counts)
    both = buckets_of(client, target, table, [first, second])
    for a, share_a in SHARES.items():
        for b, share_b in SHARES.items():
            joint = sum(1 for x, y in both.values() if (x, y) == (a, b))
            assert within_3_sd(joint, share_a * share_b / 10_000, N), (a, b, joint)


def test_new_percentages_move_only_the_members_they_must(many):
    client, target, table = many
    before = split_of(SHARES)
    after = split_of({"A": 40, "B": 45, "holdout": 15}, before)
    moved = [
        (x, y) for x, y in buckets_of(client, target, table, [before, after]).values() if x != y
    ]
    assert set(moved) == {("A", "holdout")}  # A gave 5 % to the holdout, nothing else
    assert within_3_sd(len(moved), 0.05, N)


def test_a_member_keeps_its_bucket_across_refreshes_with_churn(warehouse):
    split = split_of(SHARES)
    table = segment_table(uuid4())
    seen: dict[str, str] = {}
    sizes = []
    for floor in (20, 35, 25, 45, 30):  # each refresh lets some in and some out
        rules = RuleSet.model_validate(
            {
                "object": "customer",
                "root": {
                    "type": "group",
                    "rules": [
                        {"type": "property", "field": "age", "operator": "gt", "value": floor}
                    ],
                },
            }
        )
        members = warehouse.build(rules, table)
        sizes.append(len(members))
        now = {
            k: v[0]
            for k, v in buckets_of(warehouse.client, warehouse.target, table, [split]).items()
        }
        assert set(now) == members
        assert all(seen[m] == b for m, b in now.items() if m in seen)
        seen.update(now)
    assert len(set(sizes)) > 1  # there was churn


def test_a_bucket_in_other_rules_is_exactly_that_buckets_members(warehouse: Warehouse):
    split = split_of(SHARES)
    x = uuid4()
    adults = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": "age", "operator": "gte", "value": 30}],
            },
        }
    )
    warehouse.build(adults, segment_table(x))
    assigned = buckets_of(warehouse.client, warehouse.target, segment_table(x), [split])
    holdout = {m for m, (b,) in assigned.items() if b == "holdout"}
    assert holdout
    outside = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [
                    {
                        "type": "segment",
                        "segment_id": str(x),
                        "operator": "not_in",
                        "bucket": "holdout",
                    }
                ],
            },
        }
    )
    m = statements.membership(outside, warehouse.target, warehouse.catalog, splits={x: split})
    got = {r[MEMBER_ID_COLUMN] for r in warehouse.run(statements.members_query(m))}
    everyone = {r["customer_id"] for r in warehouse.tables["customers"]}
    assert got == everyone - holdout
