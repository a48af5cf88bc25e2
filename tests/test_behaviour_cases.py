"""The behaviour conditions as data: a few customers' events → the expected members,
on the emulator, with the reference evaluator held to the same answers.

Each case has its own customers (`<case>-<letter>`), so cases never see each other's
events. The build date is Tuesday 30 June 2026; `d(n)` is n days before it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from google.cloud import bigquery

from compiler import statements
from compiler.sql import Target
from contracts.clock import FixedClock
from contracts.rules import RuleSet
from contracts.warehouse import dataset_id
from devstack import seeding
from devstack.warehouse import create_object_table, load_rows
from reference import Evaluator
from segment_runtime.bigquery import to_query_parameters

BUILD_DATE = date(2026, 6, 30)


def d(days_ago: int) -> str:
    return (BUILD_DATE - timedelta(days=days_ago)).isoformat()


def cart(**kw: Any) -> dict[str, Any]:
    return {"event": "ecommerce", "name": "add_to_cart", **kw}


def named(name: str, **kw: Any) -> dict[str, Any]:
    return {"event": "ecommerce", "name": name, **kw}


# (case, condition, {customer: [(event id, date, name, product)]}, expected members)
Events = dict[str, list[tuple[str, str, str, str | None]]]
CASES: list[tuple[str, dict[str, Any], Events, set[str]]] = [
    (
        "abandoned",
        {
            "type": "sequence",
            "steps": [cart(), named("checkout", within_days=2)],
            "then_not": named("purchase", within_days=2),
            "window": {"kind": "previous_days", "days": 30},
        },
        {
            "a": [("1", d(10), "add_to_cart", None), ("2", d(9), "checkout", None)],
            # bought within the 2 days after the last step: not abandoned
            "b": [
                ("1", d(10), "add_to_cart", None),
                ("2", d(9), "checkout", None),
                ("3", d(7), "purchase", None),
            ],
            # bought, but 3 days later: still abandoned
            "c": [
                ("1", d(10), "add_to_cart", None),
                ("2", d(9), "checkout", None),
                ("3", d(6), "purchase", None),
            ],
            "d": [("1", d(10), "add_to_cart", None), ("2", d(6), "checkout", None)],  # gap 4
            "e": [("1", d(10), "checkout", None), ("2", d(9), "add_to_cart", None)],  # order
            # the 2 days have not passed yet: not (yet) a member
            "f": [("1", d(3), "add_to_cart", None), ("2", d(2), "checkout", None)],
            "g": [("1", d(40), "add_to_cart", None), ("2", d(39), "checkout", None)],  # window
            # repeated events: the later cart completes the order
            "h": [
                ("1", d(20), "add_to_cart", None),
                ("2", d(12), "add_to_cart", None),
                ("3", d(11), "checkout", None),
            ],
        },
        {"a", "c", "h"},
    ),
    (
        "ties",
        {"type": "sequence", "steps": [cart(), named("checkout")]},
        {
            "a": [("e1", d(5), "add_to_cart", None), ("e2", d(5), "checkout", None)],
            "b": [("e1", d(5), "checkout", None), ("e2", d(5), "add_to_cart", None)],
            "c": [("e1", d(5), "add_to_cart", None)],
        },
        {"a"},
    ),
    (
        "twice",
        {"type": "sequence", "steps": [named("purchase"), named("purchase", within_days=30)]},
        {
            "a": [("1", d(10), "purchase", None)],  # one event never stands for two steps
            "b": [("1", d(50), "purchase", None), ("2", d(10), "purchase", None)],
            "c": [("1", d(50), "purchase", None), ("2", d(20), "purchase", None)],
        },
        {"c"},
    ),
    (
        "total",
        {
            "type": "sequence",
            "steps": [named("download"), cart(), named("checkout")],
            "total_within_days": 5,
        },
        {
            "a": [
                ("1", d(20), "download", None),
                ("2", d(18), "add_to_cart", None),
                ("3", d(16), "checkout", None),
            ],
            "b": [
                ("1", d(20), "download", None),
                ("2", d(17), "add_to_cart", None),
                ("3", d(14), "checkout", None),
            ],
            # the later start fits: any occurrence that completes the order counts
            "c": [
                ("1", d(30), "download", None),
                ("2", d(19), "download", None),
                ("3", d(18), "add_to_cart", None),
                ("4", d(15), "checkout", None),
            ],
        },
        {"a", "c"},
    ),
    (
        "stepfilter",
        {
            "type": "sequence",
            "steps": [
                named(
                    "download",
                    filters=[
                        {
                            "type": "property",
                            "field": "product",
                            "operator": "contains",
                            "value": "shoe",
                        }
                    ],
                ),
                named("purchase"),
            ],
        },
        {
            "a": [("1", d(5), "download", "Running Shoe"), ("2", d(3), "purchase", None)],
            "b": [("1", d(5), "download", "Hat"), ("2", d(3), "purchase", None)],
        },
        {"a"},
    ),
    (
        "firsttime",
        {
            "type": "occurrence",
            "which": "first",
            **named("purchase"),
            "window": {"kind": "previous_days", "days": 30},
        },
        {
            "a": [("1", d(10), "purchase", None)],
            "b": [("1", d(100), "purchase", None), ("2", d(10), "purchase", None)],
            "c": [("1", d(10), "download", None)],
            "d": [("1", d(0), "purchase", None)],  # today is not among the previous days
            "e": [("1", d(30), "purchase", None)],  # the window's first day
            "f": [("1", d(31), "purchase", None)],
        },
        {"a", "e"},
    ),
    (
        "firstsource",
        {
            "type": "occurrence",
            "which": "first",
            **named("download"),
            "where": [
                {"type": "property", "field": "product", "operator": "equals", "value": "promo"}
            ],
        },
        {
            "a": [("e1", d(20), "download", "Promo"), ("e2", d(10), "download", "X")],
            "b": [("e1", d(20), "download", "X"), ("e2", d(10), "download", "Promo")],
            "c": [("e1", d(20), "download", "X"), ("e2", d(20), "download", "Promo")],  # tie
        },
        {"a"},
    ),
    (
        "lastbefore",
        {
            "type": "occurrence",
            "which": "last",
            **named("purchase"),
            "window": {"kind": "range", "start": "2026-01-01", "end": "2026-03-31"},
        },
        {
            "a": [("1", "2026-02-15", "purchase", None)],
            "b": [("1", "2026-02-15", "purchase", None), ("2", "2026-05-01", "purchase", None)],
        },
        {"a"},
    ),
    (
        "stopped",
        {
            "type": "stopped",
            **named("purchase"),
            "at_least": 2,
            "base_days": 90,
            "recent_days": 60,
        },
        {
            "a": [("1", d(100), "purchase", None), ("2", d(80), "purchase", None)],
            "b": [
                ("1", d(100), "purchase", None),
                ("2", d(80), "purchase", None),
                ("3", d(30), "purchase", None),
            ],
            "c": [("1", d(100), "purchase", None)],  # not enough history: not a member
            "d": [("1", d(100), "purchase", None), ("2", d(61), "purchase", None)],
            "e": [("1", d(100), "purchase", None), ("2", d(60), "purchase", None)],
            "f": [("1", d(100), "purchase", None), ("2", d(0), "purchase", None)],
            "g": [("1", d(151), "purchase", None), ("2", d(100), "purchase", None)],
            "h": [],  # never did it: has not "stopped"
        },
        {"a", "d"},
    ),
    (
        "restarted",
        {
            "type": "restarted",
            **named("purchase"),
            "gap_days": 90,
            "window": {"kind": "previous_days", "days": 30},
        },
        {
            "a": [("1", d(200), "purchase", None), ("2", d(10), "purchase", None)],
            "b": [
                ("1", d(200), "purchase", None),
                ("2", d(100), "purchase", None),
                ("3", d(10), "purchase", None),
            ],
            "c": [("1", d(95), "purchase", None), ("2", d(10), "purchase", None)],
            "d": [("1", d(10), "purchase", None)],
            "e": [("1", d(200), "purchase", None), ("2", d(50), "purchase", None)],
        },
        {"a", "b"},
    ),
    (
        "weekly",
        {"type": "regularly", **named("purchase"), "period": "week", "at_least": 3, "of_last": 4},
        {
            "a": [(str(i), d(n), "purchase", None) for i, n in enumerate([2, 9, 16])],
            "b": [(str(i), d(n), "purchase", None) for i, n in enumerate([1, 9, 16])],
            "c": [(str(i), d(n), "purchase", None) for i, n in enumerate([2, 3, 9])],
            "d": [(str(i), d(n), "purchase", None) for i, n in enumerate([29, 22, 15])],
            "e": [(str(i), d(n), "purchase", None) for i, n in enumerate([30, 22, 15])],
        },
        {"a", "d"},
    ),
    (
        "monthly",
        {"type": "regularly", **named("purchase"), "period": "month", "at_least": 2, "of_last": 3},
        {
            "a": [("1", "2026-05-31", "purchase", None), ("2", "2026-03-01", "purchase", None)],
            "b": [("1", "2026-06-01", "purchase", None), ("2", "2026-05-15", "purchase", None)],
            "c": [("1", "2026-02-28", "purchase", None), ("2", "2026-04-10", "purchase", None)],
        },
        {"a"},
    ),
    (
        "zone",  # bought on Sunday 28 June only (see the time-zone test)
        {"type": "regularly", **named("purchase"), "period": "week", "at_least": 1, "of_last": 1},
        {"a": [("1", d(2), "purchase", None)]},
        {"a"},
    ),
    (
        "daily",
        {"type": "regularly", **named("purchase"), "period": "day", "at_least": 2, "of_last": 3},
        {
            "a": [("1", d(1), "purchase", None), ("2", d(3), "purchase", None)],
            "b": [("1", d(0), "purchase", None), ("2", d(1), "purchase", None)],
            "c": [("1", d(4), "purchase", None), ("2", d(1), "purchase", None)],
        },
        {"a"},
    ),
]


class Fixture:
    def __init__(self, client: bigquery.Client) -> None:
        self.client = client
        self.catalog = seeding.demo_catalog()
        account = uuid4()
        self.target = Target(client.project, dataset_id(account))
        customers, events = [], []
        for case, _, people, _ in CASES:
            for who, rows in people.items():
                cid = f"{case}-{who}"
                customers.append({"customer_id": cid})
                events += [
                    {
                        "event_id": f"{cid}-{eid}",
                        "customer_id": cid,
                        "kind": "ecommerce",
                        "event_name": name,
                        "event_date": day,
                        "product": product,
                    }
                    for eid, day, name, product in rows
                ]
        self.tables = {"customers": customers, "customer_events": events}
        for name, rows in self.tables.items():
            (obj,) = [o for o in self.catalog.objects.values() if o.table == name]
            load_rows(client, create_object_table(client, account, obj), rows)

    def members(self, rules: RuleSet, today: date) -> set[str]:
        m = statements.membership(rules, self.target, self.catalog)
        query = m.compiled(m.members())
        params = query.bind(at=datetime(2026, 6, 30, tzinfo=UTC), today=today)
        config = bigquery.QueryJobConfig(query_parameters=to_query_parameters(params))
        return {r[0] for r in self.client.query(query.sql, job_config=config).result()}


@pytest.fixture(scope="module")
def fixture(emulator) -> Fixture:
    return Fixture(emulator.client())


def rule_set(condition: dict[str, Any]) -> RuleSet:
    return RuleSet.model_validate(
        {"object": "customer", "root": {"type": "group", "rules": [condition]}}
    )


@pytest.mark.parametrize(
    ("case", "condition", "people", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_each_case_selects_exactly_its_expected_members(fixture, case, condition, people, expected):
    rules = rule_set(condition)
    ours = {
        m.split("-", 1)[1] for m in fixture.members(rules, BUILD_DATE) if m.startswith(f"{case}-")
    }
    assert ours == expected
    evaluator = Evaluator(fixture.catalog, fixture.tables, BUILD_DATE)
    by_reference = {
        m.split("-", 1)[1] for m in evaluator.members(rules) if m.startswith(f"{case}-")
    }
    assert by_reference == expected


def test_the_weeks_follow_the_accounts_time_zone(fixture):
    """Sunday 28 June, 20:00 UTC is already Monday in Jakarta: there the week of the
    28th has ended and counts; in UTC it is still the current week, which does not.
    (The build date is the account's today; event dates are as the warehouse holds them.)"""
    at = FixedClock(datetime(2026, 6, 28, 20, tzinfo=UTC))
    rules = rule_set(
        {"type": "regularly", **named("purchase"), "period": "week", "at_least": 1, "of_last": 1}
    )
    jakarta = fixture.members(rules, at.today("Asia/Jakarta"))
    utc = fixture.members(rules, at.today("UTC"))
    assert at.today("Asia/Jakarta") == date(2026, 6, 29)
    assert "zone-a" in jakarta
    assert "zone-a" not in utc
    for today, got in ((date(2026, 6, 29), jakarta), (date(2026, 6, 28), utc)):
        assert Evaluator(fixture.catalog, fixture.tables, today).members(rules) == got
