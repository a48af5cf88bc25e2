"""The emulator workbench of the compiler's agreement tests: an account seeded with
demo rows, built the way the compiler builds, with the rows kept for the reference
evaluator. The `warehouse` fixture (conftest) makes one per test module."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from google.cloud import bigquery

from compiler import statements
from compiler.service.adapters import prepare_membership
from compiler.sql import CompiledQuery, Target
from contracts.rules import RuleSet
from contracts.warehouse import LOG_SUFFIX, MEMBER_ID_COLUMN, dataset_id, segment_table
from devstack import seeding
from reference import Evaluator
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
        self.built: dict[str, set[str]] = {}  # the last tree built per object, by test

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


def seeded(client: bigquery.Client) -> Warehouse:
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
