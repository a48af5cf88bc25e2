"""Builds as the platform runs them, done directly on the emulator: the compiler's log and
member view, its one MERGE per build, and the job monitor's read-back by build id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from google.cloud import bigquery

from compiler import statements
from compiler.service.adapters import prepare_membership
from compiler.sql import CompiledQuery, Target
from contracts.warehouse import LOG_SUFFIX, MEMBER_ID_COLUMN
from job_monitor.counts import BUILD_ID_PARAM, BUILD_TIME_PARAM, changed_ids_sql, counts_sql
from segment_runtime.bigquery import to_query_parameters


def query(client: bigquery.Client, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    config = bigquery.QueryJobConfig(query_parameters=to_query_parameters(params))
    return [dict(r) for r in client.query(sql, job_config=config).result()]


@dataclass(frozen=True)
class Changes:
    members: int
    entered: set[str]
    exited: set[str]
    entered_count: int
    exited_count: int


def build(
    client: bigquery.Client,
    m: statements.Membership,
    table: str,
    *,
    build_id: UUID,
    when: datetime,
    today: date,
    rules_version: int = 1,
) -> None:
    target = statements.m_target(m)
    log = f"{table}{LOG_SUFFIX}"
    prepare_membership(
        client, target.name(log), target.name(table), statements.member_view(target, log).sql
    )
    q: CompiledQuery = statements.record(m, log)
    params = q.bind(at=when, today=today, build_id=str(build_id), rules_version=rules_version)
    query(client, q.sql, params)


def changes(
    client: bigquery.Client, target: Target, table: str, build_id: UUID, when: datetime
) -> Changes:
    log = target.name(f"{table}{LOG_SUFFIX}")
    params = {BUILD_ID_PARAM: str(build_id), BUILD_TIME_PARAM: when}
    (counted,) = query(client, counts_sql(log), params)
    rows = query(client, changed_ids_sql(log), params)
    return Changes(
        members=counted["members"],
        entered={r["member_id"] for r in rows if not r["exited"]},
        exited={r["member_id"] for r in rows if r["exited"]},
        entered_count=counted["entered"],
        exited_count=counted["exited"],
    )


def members(client: bigquery.Client, target: Target, table: str) -> set[str]:
    sql = f"SELECT {MEMBER_ID_COLUMN} FROM `{target.name(table)}`"
    return {r[MEMBER_ID_COLUMN] for r in client.query(sql).result()}
