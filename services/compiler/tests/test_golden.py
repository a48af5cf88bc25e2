"""Golden tests: rule tree in, BigQuery predicate and parameters out."""

from __future__ import annotations

from typing import Any

import pytest
from compiler.statements import Target, build, predicate
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
    (rules(prop("city", "is_empty")), f"{C}(`t`.`city` IS NULL OR `t`.`city` = '', FALSE)", {}),
    (
        rules(prop("lifetime_value", "between", [10, 20.5])),
        f"{C}(`t`.`lifetime_value` BETWEEN @p0 AND @p1, FALSE)",
        {"p0": 10, "p1": 20.5},
    ),
    (rules(prop("age", "is_not_empty")), f"{C}(NOT `t`.`age` IS NULL, FALSE)", {}),
    (
        rules(prop("signed_up_on", "in_last_days", 30)),
        f"{C}(`t`.`signed_up_on` BETWEEN DATE_SUB(@build_date, INTERVAL (@p0) DAY)"
        " AND @build_date, FALSE)",
        {"p0": 30},
    ),
    (
        rules(prop("signed_up_on", "more_than_days_ago", 90)),
        f"{C}(`t`.`signed_up_on` < DATE_SUB(@build_date, INTERVAL (@p0) DAY), FALSE)",
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
    compiled = predicate(RuleSet.model_validate({"object": "customer", "root": root}))
    assert compiled.sql == sql
    assert compiled.params == params


def test_build_statement_reads_the_catalog_table_and_writes_the_member_table():
    compiled = build(
        RuleSet.model_validate({"object": "customer", "root": rules(prop("age", "gt", 1))}),
        Target("proj", "acct_1"),
        "segment_9",
    )
    assert compiled.sql == (
        "CREATE OR REPLACE TABLE `proj`.`acct_1`.`segment_9` AS "
        "SELECT DISTINCT `t`.`customer_id` AS `object_id` FROM `proj`.`acct_1`.`customers` AS t "
        "WHERE COALESCE(`t`.`age` > @p0, FALSE)"
    )
    assert compiled.runtime_params == frozenset()


def test_relative_windows_are_bound_at_run_time_not_compile_time():
    compiled = predicate(
        RuleSet.model_validate(
            {"object": "customer", "root": rules(prop("signed_up_on", "in_last_days", 7))}
        )
    )
    assert compiled.runtime_params == {"build_date"}
    with pytest.raises(KeyError):
        compiled.bind({})
