"""The membership log as data: for each kind of build, the members before and the data
and rules of the build → who entered and who left, read back by build id the way the job
monitor reads it, and the member view after it. On the emulator, with the compiler's
statements; the same MERGE serves every kind, so the kinds differ only in what changed
before them (rules, data, time archived)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import membership_log
import pytest
from google.cloud import bigquery

from compiler import statements
from compiler.sql import Target
from contracts.rules import RuleSet
from contracts.warehouse import dataset_id
from devstack import seeding
from devstack.warehouse import create_object_table, load_rows

TODAY = date(2026, 6, 30)
START = datetime(2026, 6, 1, 3, tzinfo=UTC)


def older_than(age: int) -> RuleSet:
    return RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": "age", "operator": "gt", "value": age}],
            },
        }
    )


# Each step: the build's kind, the ages it finds (changes to the data before it), the rule
# (customers older than N), and who it lets in and out. Customers c1..c6.
AGES = {"c1": 25, "c2": 35, "c3": 45, "c4": 55, "c5": 65, "c6": 20}
STEPS: list[tuple[str, dict[str, int], int, set[str], set[str]]] = [
    ("create", {}, 30, {"c2", "c3", "c4", "c5"}, set()),
    ("edit: age > 30 → age > 40", {}, 40, set(), {"c2"}),
    ("refresh after the data moved", {"c2": 50, "c5": 10}, 40, {"c2"}, {"c5"}),
    ("rebuild, nothing changed", {}, 40, set(), set()),
    ("cascade (a child rebuilt), someone aged", {"c1": 41}, 40, {"c1"}, set()),
    # archived, the data moved meanwhile, then unarchived: relative to before the archive
    ("unarchive", {"c3": 30, "c6": 70, "c5": 80}, 40, {"c5", "c6"}, {"c3"}),
    ("edit back: age > 30", {}, 30, set(), set()),
    ("edit: age > 100 empties it", {}, 100, set(), {"c1", "c2", "c4", "c5", "c6"}),
    ("edit: age > 0 refills it, with re-entries", {}, 0, set(AGES), set()),
]


@pytest.fixture(scope="module")
def warehouse(emulator) -> tuple[bigquery.Client, Target]:
    client = emulator.client()
    account = uuid4()
    obj = seeding.demo_catalog().objects["customer"]
    table = create_object_table(client, account, obj)
    load_rows(client, table, [{"customer_id": c, "age": a} for c, a in AGES.items()])
    return client, Target(client.project, dataset_id(account))


def set_ages(client: bigquery.Client, target: Target, ages: dict[str, int]) -> None:
    for customer, age in ages.items():
        membership_log.query(
            client,
            f"UPDATE `{target.name('customers')}` SET age = @age WHERE customer_id = @id",
            {"age": age, "id": customer},
        )


def test_every_kind_of_build_moves_the_log_from_the_previous_membership(warehouse):
    client, target = warehouse
    table = f"segment_{uuid4().hex}"
    ages = dict(AGES)
    before: set[str] = set()
    intervals = 0
    for step, (kind, moved, rule, entered, exited) in enumerate(STEPS):
        set_ages(client, target, moved)
        ages.update(moved)
        build_id, when = uuid4(), START + timedelta(days=step)
        m = statements.membership(older_than(rule), target, seeding.demo_catalog())
        membership_log.build(
            client, m, table, build_id=build_id, when=when, today=TODAY, rules_version=step + 1
        )
        now = {c for c, a in ages.items() if a > rule}
        # the case table agrees with the data (an independent count), and so does the log
        assert (now - before, before - now) == (entered, exited), kind
        got = membership_log.changes(client, target, table, build_id, when)
        assert (got.entered, got.exited) == (entered, exited), kind
        assert (got.entered_count, got.exited_count, got.members) == (
            len(entered),
            len(exited),
            len(now),
        ), kind
        assert membership_log.members(client, target, table) == now, kind
        intervals += len(entered)
        (row,) = membership_log.query(
            client,
            f"SELECT COUNT(*) AS n, COUNTIF(exited_at IS NULL) AS open"
            f" FROM `{target.name(table + '_log')}`",
            {},
        )
        assert (row["n"], row["open"]) == (intervals, len(now)), kind  # history is kept
        before = now


def test_the_same_build_run_again_changes_nothing_twice(warehouse):
    client, target = warehouse
    table = f"segment_{uuid4().hex}"
    m = statements.membership(older_than(30), target, seeding.demo_catalog())
    build_id = uuid4()
    membership_log.build(client, m, table, build_id=build_id, when=START, today=TODAY)
    first = membership_log.changes(client, target, table, build_id, START)
    m = statements.membership(older_than(30), target, seeding.demo_catalog())
    membership_log.build(client, m, table, build_id=build_id, when=START, today=TODAY)
    again = membership_log.changes(client, target, table, build_id, START)
    assert again == first  # a redelivered or re-driven build: no second entry for anyone
    (row,) = membership_log.query(
        client, f"SELECT COUNT(*) AS n FROM `{target.name(table + '_log')}`", {}
    )
    assert row["n"] == first.entered_count


def test_entered_at_survives_an_edit(warehouse):
    client, target = warehouse
    table = f"segment_{uuid4().hex}"
    catalog = seeding.demo_catalog()
    ages = {
        r["customer_id"]: r["age"]
        for r in membership_log.query(
            client, f"SELECT customer_id, age FROM `{target.name('customers')}`", {}
        )
    }
    m = statements.membership(older_than(30), target, catalog)
    membership_log.build(client, m, table, build_id=uuid4(), when=START, today=TODAY)
    later = START + timedelta(days=3)
    m = statements.membership(older_than(20), target, catalog)
    membership_log.build(client, m, table, build_id=uuid4(), when=later, today=TODAY)
    rows = membership_log.query(
        client, f"SELECT object_id, entered_at FROM `{target.name(table)}`", {}
    )
    expected = {c: START if a > 30 else later for c, a in ages.items() if a > 20}
    assert {r["object_id"]: r["entered_at"] for r in rows} == expected
    assert START in expected.values() and later in expected.values()
