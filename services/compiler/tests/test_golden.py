"""Golden tests: rule tree in, BigQuery predicate and parameters out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from compiler.sql import Target
from compiler.statements import edit_diff_sample, member_view, membership, record, sample
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


def test_the_build_is_one_merge_that_opens_and_closes_intervals_of_the_log():
    m = membership(
        RuleSet.model_validate({"object": "customer", "root": rules(prop("age", "gt", 1))}),
        TARGET,
    )
    compiled = record(m, "segment_9_log")
    assert compiled.sql == (
        "MERGE INTO `proj`.`acct_1`.`segment_9_log` AS cur USING ("
        f"SELECT DISTINCT `t`.`customer_id` AS `object_id` {FROM}"
        " WHERE COALESCE(`t`.`age` > @p0, FALSE)) AS nxt"
        " ON `cur`.`open_key` = `nxt`.`object_id`"
        " WHEN NOT MATCHED THEN INSERT (`object_id`, `entered_at`, `entered_build`,"
        " `entered_version`, `open_key`) VALUES (`nxt`.`object_id`, @build_time, @build_id,"
        " @rules_version, `nxt`.`object_id`)"
        " WHEN NOT MATCHED BY SOURCE AND `cur`.`exited_at` IS NULL THEN UPDATE SET"
        " `exited_at` = @build_time, `exited_build` = @build_id,"
        " `exited_version` = @rules_version, `open_key` = NULL"
    )
    assert compiled.runtime_params == {"build_time", "build_id", "rules_version"}


def test_the_member_table_is_a_view_of_the_open_intervals():
    assert member_view(TARGET, "segment_9_log").sql == (
        "SELECT `l`.`object_id`, `l`.`entered_at`, `l`.`entered_build`, `l`.`entered_version`"
        " FROM `proj`.`acct_1`.`segment_9_log` AS l WHERE `l`.`exited_at` IS NULL"
    )


def test_the_edit_diff_sample_names_who_would_enter_and_exit_with_display_columns():
    m = membership(
        RuleSet.model_validate({"object": "customer", "root": rules(prop("age", "gt", 1))}),
        TARGET,
    )
    compiled = edit_diff_sample(m, "segment_9")
    assert compiled.runtime_params == {"sample_limit"}
    assert "FULL OUTER JOIN `proj`.`acct_1`.`segment_9` AS cur" in compiled.sql
    assert "`o`.`full_name`, `o`.`email`" in compiled.sql
    assert compiled.sql.endswith(
        "WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY `d`.`change` ORDER BY"
        " `d`.`object_id` NULLS LAST) <= @sample_limit ORDER BY `d`.`change`, `d`.`object_id`"
    )


def test_relative_windows_are_bound_at_run_time_not_compile_time():
    m = membership(
        RuleSet.model_validate(
            {"object": "customer", "root": rules(prop("created_on", "in_last_days", 7))}
        ),
        TARGET,
    )
    compiled = record(m, "segment_9_log")
    assert compiled.runtime_params == {"build_date", "build_time", "build_id", "rules_version"}
    at = datetime(2026, 6, 30, 22, tzinfo=UTC)
    # the build date is the account's (a day ahead of UTC here), not the time's UTC date
    params = compiled.bind(at=at, today=date(2026, 7, 1), build_id="b", rules_version=2)
    assert (params["build_time"], params["build_date"]) == (at, date(2026, 7, 1))
    assert compiled.bind(at=at, build_id="b", rules_version=2)["build_date"] == date(2026, 6, 30)


def test_a_run_time_value_must_be_declared_and_given():
    m = membership(
        RuleSet.model_validate({"object": "customer", "root": rules(prop("age", "gt", 1))}),
        TARGET,
    )
    with pytest.raises(KeyError, match="not declared"):
        record(m, "segment_9_log").bind(page_limit=10)  # a build has no page
    with pytest.raises(KeyError, match="unbound"):
        sample(m).bind()  # a sample needs its size
    assert sample(m).bind(sample_limit=5)["sample_limit"] == 5
