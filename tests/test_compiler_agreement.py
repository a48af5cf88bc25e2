"""The compiler's proof: on the emulator, for random rule trees, the built table, the
preview's counts and an independent Python evaluator agree exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from google.cloud import bigquery
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import statements
from compiler.service.adapters import prepare_membership
from compiler.sql import CompiledQuery, Target
from compiler.typed import check
from contracts.rules import RuleSet
from contracts.warehouse import LOG_SUFFIX, MEMBER_ID_COLUMN, dataset_id, segment_table
from devstack import seeding
from reference import Evaluator
from rule_strategies import RuleSpace
from segment_api.shared import member_queries
from segment_runtime.bigquery import to_query_parameters

BUILD_DATE = date(2026, 6, 30)
BUILD_TIME = datetime(2026, 6, 30, 3, 0, tzinfo=UTC)
CUSTOMERS = 160
OBJECTS = ["customer", "session", "people", "crm_account", "revealed_company", "deal"]


class Warehouse:
    def __init__(self, client: bigquery.Client, account: UUID, tables: dict[str, list[dict]]):
        self.client = client
        self.account = account
        self.tables = tables
        self.catalog = seeding.demo_catalog()
        self.target = Target(client.project, dataset_id(account))
        self.segments: dict[UUID, set[str]] = {}

    def run(self, query: CompiledQuery, **runtime: Any) -> list[dict[str, Any]]:
        params = query.bind(at=BUILD_TIME, today=BUILD_DATE, **runtime)
        config = bigquery.QueryJobConfig(query_parameters=to_query_parameters(params))
        return [dict(r) for r in self.client.query(query.sql, job_config=config).result()]

    def evaluator(self) -> Evaluator:
        return Evaluator(self.catalog, self.tables, BUILD_DATE, self.segments)

    def build(self, rule_set: RuleSet, table: str) -> set[str]:
        """As the compiler builds: the log and its member view, then the one MERGE."""
        log = f"{table}{LOG_SUFFIX}"
        prepare_membership(
            self.client,
            self.target.name(log),
            self.target.name(table),
            statements.member_view(self.target, log).sql,
        )
        m = statements.membership(rule_set, self.target, self.catalog)
        self.run(statements.record(m, log), build_id=str(uuid4()), rules_version=1)
        return {
            r[MEMBER_ID_COLUMN]
            for r in self.run(
                CompiledQuery(f"SELECT {MEMBER_ID_COLUMN} FROM `{self.target.name(table)}`", {})
            )
        }


@pytest.fixture(scope="module")
def warehouse(emulator) -> Warehouse:
    client = emulator.client()
    account = uuid4()
    tables = seeding.seed_warehouse(client, account, CUSTOMERS, seed=3, today=BUILD_DATE)
    wh = Warehouse(client, account, tables)
    # Two segments to embed: built on the emulator, their members known to the evaluator.
    for rules in (
        {"type": "property", "field": "age", "operator": "gte", "value": 40},
        {"type": "property", "field": "city", "operator": "equals", "value": "jakarta"},
    ):
        segment_id = uuid4()
        rs = RuleSet.model_validate(
            {"object": "customer", "root": {"type": "group", "rules": [rules]}}
        )
        wh.segments[segment_id] = wh.build(rs, segment_table(segment_id))
    return wh


def space(wh: Warehouse) -> RuleSpace:
    by_object = {"customer": list(wh.segments)}
    return RuleSpace(wh.catalog, wh.tables, BUILD_DATE, by_object)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_table_preview_and_evaluator_agree(warehouse, data):
    obj = warehouse.catalog.objects[data.draw(st.sampled_from(OBJECTS), label="object")]
    raw = data.draw(space(warehouse).rule_set(obj), label="rules")
    rule_set = RuleSet.model_validate(raw)
    assert check(rule_set, warehouse.catalog) == []

    expected = warehouse.evaluator().members(rule_set)
    built = warehouse.build(rule_set, "segment_under_test")
    assert built == expected

    m = statements.membership(rule_set, warehouse.target, warehouse.catalog)
    preview = warehouse.run(statements.preview(m))[0]
    assert preview["matched"] == len(expected)
    assert preview["total"] == len(warehouse.tables[obj.table])
    node_counts = warehouse.evaluator().node_counts(rule_set)
    got = {path: preview[f"n{i}"] for i, path in enumerate(statements.preview(m).node_paths)}
    assert got == node_counts


def test_the_sample_shows_members_in_id_order(warehouse):
    rs = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
            },
        }
    )
    m = statements.membership(rs, warehouse.target, warehouse.catalog)
    rows = warehouse.run(statements.sample(m), sample_limit=5)
    expected = sorted(warehouse.evaluator().members(rs))[:5]
    assert [r[MEMBER_ID_COLUMN] for r in rows] == expected
    assert {"full_name", "email", "phone", "city"} <= rows[0].keys()


def test_the_edit_diff_counts_who_would_enter_and_exit(warehouse):
    current = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [
                    {"type": "property", "field": "age", "operator": "between", "value": [20, 50]}
                ],
            },
        }
    )
    edited = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [
                    {"type": "property", "field": "age", "operator": "between", "value": [35, 70]}
                ],
            },
        }
    )
    before = warehouse.build(current, "segment_edit")
    after = warehouse.evaluator().members(edited)
    m = statements.membership(edited, warehouse.target, warehouse.catalog)
    (diff,) = warehouse.run(statements.edit_diff(m, "segment_edit"))
    assert (diff["would_enter"], diff["would_exit"]) == (len(after - before), len(before - after))
    assert diff["would_enter"] and diff["would_exit"]


def test_a_report_filter_keeps_the_members_rows(warehouse):
    segment_id, members = next(iter(warehouse.segments.items()))
    f = member_queries.report_filter(
        warehouse.target, segment_table(segment_id), "o", "customer_id"
    )
    orders = warehouse.target.name("orders")
    sql = (
        f"WITH {f.cte_name} AS ({f.cte_sql}) SELECT COUNT(*) AS n "
        f"FROM `{orders}` AS o WHERE {f.predicate_sql}"
    )
    (row,) = warehouse.run(CompiledQuery(sql, {}))
    assert row["n"] == sum(1 for o in warehouse.tables["orders"] if o["customer_id"] in members)
