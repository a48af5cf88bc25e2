"""Golden tests: rule tree in, BigQuery predicate and parameters out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from compiler.sql import Target
from compiler.statements import build, membership, sample
from compiler_golden import AGGREGATE_CASES, CASES, FROM, prop, rules
from contracts.rules import RuleSet


@pytest.mark.parametrize(("root", "sql", "params"), CASES, ids=[c[1][:60] for c in CASES])
def test_predicate(root, sql, params):
    m = membership(RuleSet.model_validate({"object": "customer", "root": root}), TARGET)
    assert m.predicate.sql(dialect="bigquery") == sql
    assert m.ctx.params == params


TARGET = Target("proj", "acct_1")


def members_sql(root: dict[str, Any]) -> str:
    rule_set = RuleSet.model_validate({"object": "customer", "root": root})
    return membership(rule_set, TARGET).members().sql(dialect="bigquery")


@pytest.mark.parametrize(
    ("root", "sql"),
    AGGREGATE_CASES,
    ids=["metric", "did_not_perform", "relationship", "not_in_segment", "multi_select"],
)
def test_members_query(root, sql):
    assert members_sql(root) == sql


def test_build_statement_reads_the_catalog_table_and_writes_the_member_table():
    m = membership(
        RuleSet.model_validate({"object": "customer", "root": rules(prop("age", "gt", 1))}),
        TARGET,
    )
    compiled = build(m, "segment_9")
    assert compiled.sql == (
        "CREATE OR REPLACE TABLE `proj`.`acct_1`.`segment_9` AS "
        "SELECT DISTINCT `t`.`customer_id` AS `object_id`, @build_time AS `entered_at` "
        f"{FROM} WHERE COALESCE(`t`.`age` > @p0, FALSE)"
    )
    assert compiled.runtime_params == {"build_time"}


def test_relative_windows_are_bound_at_run_time_not_compile_time():
    m = membership(
        RuleSet.model_validate(
            {"object": "customer", "root": rules(prop("created_on", "in_last_days", 7))}
        ),
        TARGET,
    )
    compiled = build(m, "segment_9")
    assert compiled.runtime_params == {"build_date", "build_time"}
    at = datetime(2026, 6, 30, 22, tzinfo=UTC)
    # the build date is the account's (a day ahead of UTC here), not the time's UTC date
    params = compiled.bind(at=at, today=date(2026, 7, 1))
    assert (params["build_time"], params["build_date"]) == (at, date(2026, 7, 1))
    assert compiled.bind(at=at)["build_date"] == date(2026, 6, 30)


def test_a_run_time_value_must_be_declared_and_given():
    m = membership(
        RuleSet.model_validate({"object": "customer", "root": rules(prop("age", "gt", 1))}),
        TARGET,
    )
    with pytest.raises(KeyError, match="not declared"):
        build(m, "segment_9").bind(page_limit=10)  # a build has no page
    with pytest.raises(KeyError, match="unbound"):
        sample(m).bind()  # a sample needs its size
    assert sample(m).bind(sample_limit=5)["sample_limit"] == 5
