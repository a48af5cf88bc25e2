"""Golden tests: rule tree in, BigQuery predicate and parameters out."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.statements import Target, build, membership
from contracts.rules import RuleSet


def prop(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"type": "property", "field": field, "operator": operator, "value": value}


def rules(
    *conditions: dict[str, Any], combinator: str = "and", negate: bool = False
) -> dict[str, Any]:
    return {"type": "group", "combinator": combinator, "negate": negate, "rules": list(conditions)}


C = "COALESCE"
CASES: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
    (rules(prop("age", "gt", 30)), f"{C}(`t`.`age` > @p0, FALSE)", {"p0": 30}),
    (
        rules(prop("city", "equals", "Jakarta")),
        f"{C}(LOWER(`t`.`city`) = @p0, FALSE)",
        {"p0": "jakarta"},
    ),
    (
        rules(prop("city", "not_equals", "Jakarta")),
        f"NOT {C}(LOWER(`t`.`city`) = @p0, FALSE)",
        {"p0": "jakarta"},
    ),
    (
        rules(prop("email", "contains", "50%_off")),
        f"{C}(INSTR(LOWER(`t`.`email`), @p0) > 0, FALSE)",
        {"p0": "50%_off"},
    ),
    (
        rules(prop("email", "ends_with", "@Example.com")),
        f"{C}(ENDS_WITH(LOWER(`t`.`email`), @p0), FALSE)",
        {"p0": "@example.com"},
    ),
    (
        rules(prop("source", "in_list", ["website", "import"])),
        f"{C}(LOWER(`t`.`source`) IN UNNEST(@p0), FALSE)",
        {"p0": ["website", "import"]},
    ),
    (rules(prop("city", "is_empty")), f"{C}((`t`.`city` IS NULL OR `t`.`city` = ''), FALSE)", {}),
    (
        rules(prop("lifetime_value", "between", [10, 20.5])),
        f"{C}(`t`.`lifetime_value` BETWEEN @p0 AND @p1, FALSE)",
        {"p0": 10, "p1": 20.5},
    ),
    (rules(prop("age", "is_not_empty")), f"NOT {C}(`t`.`age` IS NULL, FALSE)", {}),
    (
        rules(prop("created_on", "in_last_days", 30)),
        f"{C}(`t`.`created_on` BETWEEN DATE_SUB(@build_date, INTERVAL (@p0) DAY)"
        " AND @build_date, FALSE)",
        {"p0": 30},
    ),
    (
        rules(prop("created_on", "more_than_days_ago", 90)),
        f"{C}(`t`.`created_on` < DATE_SUB(@build_date, INTERVAL (@p0) DAY), FALSE)",
        {"p0": 90},
    ),
    (rules(prop("is_vip", "is_true")), f"{C}(`t`.`is_vip` IS TRUE, FALSE)", {}),
    (
        rules(prop("age", "gt", 30), prop("age", "lt", 40), combinator="or"),
        f"({C}(`t`.`age` > @p0, FALSE) OR {C}(`t`.`age` < @p1, FALSE))",
        {"p0": 30, "p1": 40},
    ),
    (
        rules(prop("age", "gt", 30), rules(prop("is_vip", "is_true"), negate=True)),
        f"({C}(`t`.`age` > @p0, FALSE) AND NOT {C}(`t`.`is_vip` IS TRUE, FALSE))",
        {"p0": 30},
    ),
]


@pytest.mark.parametrize(("root", "sql", "params"), CASES, ids=[c[1][:60] for c in CASES])
def test_predicate(root, sql, params):
    m = membership(RuleSet.model_validate({"object": "customer", "root": root}), TARGET)
    assert m.predicate.sql(dialect="bigquery") == sql
    assert m.ctx.params == params


TARGET = Target("proj", "acct_1")


def members_sql(root: dict[str, Any]) -> str:
    rule_set = RuleSet.model_validate({"object": "customer", "root": root})
    return membership(rule_set, TARGET).members().sql(dialect="bigquery")


FROM = "FROM `proj`.`acct_1`.`customers` AS t"
SELECT = "SELECT DISTINCT `t`.`customer_id` AS `object_id`"

# Aggregates: a CTE per condition, grouped by the relation key, LEFT JOINed to the row.
AGGREGATE_CASES: list[tuple[dict[str, Any], str]] = [
    (
        rules({"type": "metric", "metric": "total_spent", "operator": "gte", "value": 100}),
        "WITH a0 AS (SELECT `r`.`customer_id` AS `k`, SUM(`r`.`amount`) AS `v` "
        "FROM `proj`.`acct_1`.`orders` AS r GROUP BY `r`.`customer_id`) "
        f"{SELECT} {FROM} LEFT JOIN a0 ON `a0`.`k` = `t`.`customer_id` "
        "WHERE COALESCE(COALESCE(`a0`.`v`, 0) >= @p0, FALSE)",
    ),
    (
        rules(
            {
                "type": "event",
                "event": "web_conversion",
                "name": "signup",
                "operator": "did_not_perform",
                "window": {"kind": "previous_days", "days": 30},
            }
        ),
        "WITH a0 AS (SELECT `r`.`customer_id` AS `k`, COUNT(*) AS `v` "
        "FROM `proj`.`acct_1`.`customer_events` AS r WHERE `r`.`event_date` BETWEEN "
        "DATE_SUB(@build_date, INTERVAL (@p0) DAY) AND DATE_SUB(@build_date, INTERVAL 1 DAY) "
        "AND COALESCE(LOWER(`r`.`kind`) = @p1, FALSE) "
        "AND COALESCE(LOWER(`r`.`event_name`) = @p2, FALSE) GROUP BY `r`.`customer_id`) "
        f"{SELECT} {FROM} LEFT JOIN a0 ON `a0`.`k` = `t`.`customer_id` "
        "WHERE COALESCE(COALESCE(`a0`.`v`, 0) = 0, FALSE)",
    ),
    (
        rules(
            {
                "type": "relationship",
                "relation": "company",
                "operator": "gte",
                "value": 1,
                "filters": [prop("industry", "equals", "tech")],
            }
        ),
        "WITH a0 AS (SELECT `r`.`company_id` AS `k`, COUNT(*) AS `v` "
        "FROM `proj`.`acct_1`.`companies` AS r WHERE COALESCE(LOWER(`r`.`industry`) = @p0, FALSE) "
        "GROUP BY `r`.`company_id`) "
        f"{SELECT} {FROM} LEFT JOIN a0 ON `a0`.`k` = `t`.`company_id` "
        "WHERE COALESCE(COALESCE(`a0`.`v`, 0) >= @p1, FALSE)",
    ),
    (
        rules(
            {
                "type": "segment",
                "segment_id": "00000000-0000-4000-8000-00000000000a",
                "operator": "not_in",
            }
        ),
        f"{SELECT} {FROM} LEFT JOIN (SELECT DISTINCT `object_id` FROM "
        "`proj`.`acct_1`.`segment_0000000000004000800000000000000a`) AS s0 "
        "ON `s0`.`object_id` = `t`.`customer_id` WHERE `s0`.`object_id` IS NULL",
    ),
    (
        rules(prop("tags", "contains_any", ["VIP", "b2b"])),
        f"{SELECT} {FROM} WHERE COALESCE((SELECT COUNT(DISTINCT LOWER(x)) FROM UNNEST(`t`.`tags`) "
        "AS x WHERE LOWER(x) IN UNNEST(@p0)) > 0, FALSE)",
    ),
]


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
    with pytest.raises(KeyError):
        compiled.bind({"build_time": 1})
