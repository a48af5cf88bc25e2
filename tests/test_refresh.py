"""A build after the data changed equals a fresh build, and the entered and exited the
job monitor reads back from the log are exactly the set differences."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import membership_log
from google.cloud import bigquery

from compiler import statements
from compiler.sql import Target
from contracts.rules import RuleSet
from contracts.warehouse import dataset_id
from devstack import seeding
from devstack.warehouse import load_rows
from reference import Evaluator
from segment_runtime.bigquery import to_query_parameters

TODAY = date(2026, 6, 30)
RULES = RuleSet.model_validate(
    {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                {"type": "property", "field": "age", "operator": "gte", "value": 30},
                {
                    "type": "metric",
                    "metric": "orders_total",
                    "operator": "gte",
                    "value": 1,
                    "window": {"kind": "previous_days", "days": 400},
                },
                {
                    "type": "group",
                    "negate": True,
                    "rules": [
                        {
                            "type": "property",
                            "field": "tags",
                            "operator": "contains_any",
                            "value": ["vip"],
                        }
                    ],
                },
            ],
        },
    }
)


members = membership_log.members


def test_refresh_after_data_changes_equals_a_fresh_build(emulator):
    client = emulator.client()
    account = uuid4()
    tables = seeding.seed_warehouse(client, account, 120, seed=5, today=TODAY)
    catalog = seeding.demo_catalog()
    target = Target(client.project, dataset_id(account))
    m = statements.membership(RULES, target, catalog)
    first, first_build = datetime(2026, 6, 29, tzinfo=UTC), uuid4()
    membership_log.build(client, m, "segment_r", build_id=first_build, when=first, today=TODAY)
    before = members(client, target, "segment_r")
    assert before == Evaluator(catalog, tables, TODAY).members(RULES)

    # The data moves on: orders vanish, ages change, new customers arrive with orders.
    changed = copy.deepcopy(tables)
    gone = [o["order_id"] for o in changed["orders"][::4]]
    changed["orders"] = [o for o in changed["orders"] if o["order_id"] not in set(gone)]
    older = [c["customer_id"] for c in changed["customers"][::3]]
    for c in changed["customers"]:
        if c["customer_id"] in set(older):
            c["age"] = 70
    new_customers = [
        {**copy.deepcopy(changed["customers"][0]), "customer_id": f"new_{i}", "age": 45, "tags": []}
        for i in range(8)
    ]
    new_orders = [
        {
            **copy.deepcopy(changed["orders"][0]),
            "order_id": f"new_o{i}",
            "customer_id": f"new_{i}",
            "order_date": (TODAY - timedelta(days=3)).isoformat(),
        }
        for i in range(8)
    ]
    changed["customers"] += new_customers
    changed["orders"] += new_orders
    dml = [
        ("DELETE FROM `{t}.orders` WHERE order_id IN UNNEST(@ids)", {"ids": gone}),
        ("UPDATE `{t}.customers` SET age = 70 WHERE customer_id IN UNNEST(@ids)", {"ids": older}),
    ]
    for sql, params in dml:
        client.query(
            sql.format(t=f"{target.project}.{target.dataset}"),
            job_config=bigquery.QueryJobConfig(query_parameters=to_query_parameters(params)),
        ).result()
    load_rows(client, f"{target.project}.{target.dataset}.customers", new_customers)
    load_rows(client, f"{target.project}.{target.dataset}.orders", new_orders)

    second, second_build = datetime(2026, 6, 30, tzinfo=UTC), uuid4()
    m = statements.membership(RULES, target, catalog)
    membership_log.build(client, m, "segment_r", build_id=second_build, when=second, today=TODAY)
    after = members(client, target, "segment_r")
    m = statements.membership(RULES, target, catalog)
    membership_log.build(client, m, "segment_fresh", build_id=uuid4(), when=second, today=TODAY)
    assert after == members(client, target, "segment_fresh")
    assert after == Evaluator(catalog, changed, TODAY).members(RULES)
    assert after != before  # the change really moved members both ways
    assert after - before and before - after

    # what the job monitor reads back from the log for the second build
    got = membership_log.changes(client, target, "segment_r", second_build, second)
    assert got.members == len(after)
    assert (got.entered, got.exited) == (after - before, before - after)
    assert (got.entered_count, got.exited_count) == (len(after - before), len(before - after))
