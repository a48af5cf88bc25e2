"""The reference page and the validator say the same thing: every operator the page
lists for a condition kind is accepted there and every other is refused, and every limit
the validator enforces is written on the page, with the number it enforces."""

from __future__ import annotations

from typing import Any

import pytest

from compiler.typed import check
from contracts import language
from contracts.limits import PLANS
from contracts.reference import reference_markdown
from contracts.rules import Operator, RuleSet

PAGE = reference_markdown()


def codes(condition: dict[str, Any], obj: str = "customer") -> list[str]:
    rules = RuleSet.model_validate({"object": obj, "root": {"type": "group", "rules": [condition]}})
    return [e.code for e in check(rules)]


def _value(op: Operator) -> Any:
    if op in language.NO_VALUE:
        return None
    return [1, 2] if op is Operator.BETWEEN else 1


def _page_row(label: str) -> list[str]:
    table = PAGE.split("| condition kind | operators |")[1].split("\n\n")[0]
    (row,) = [line for line in table.splitlines() if line.startswith(f"| {label} ")]
    return [op.strip(" `") for op in row.split("|")[2].split(",")]


KINDS = {
    "metric": ("| `metric`", {"type": "metric", "metric": "total_spent"}),
    "event": (
        "| `event`, `relationship` (a count, never empty)",
        {"type": "event", "event": "web_conversion"},
    ),
    "relationship": (
        "| `event`, `relationship` (a count, never empty)",
        {"type": "relationship", "relation": "deals"},
    ),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", list(Operator))
def test_each_kind_accepts_exactly_the_operators_its_row_lists(kind, op):
    row, condition = KINDS[kind]
    documented = _page_row(row.removeprefix("| "))
    found = codes({**condition, "operator": op.value, "value": _value(op)})
    if op.value in documented:
        assert found == [], (kind, op, found)
    else:
        assert found == ["operator_not_allowed"], (kind, op, found)


@pytest.mark.parametrize(
    ("condition", "limit"),
    [
        (
            {"type": "property", "field": "city", "operator": "in_list", "value": ["a"] * 1001},
            language.MAX_LIST_VALUES,
        ),
        (
            {"type": "property", "field": "city", "operator": "equals", "value": "x" * 1001},
            language.MAX_TEXT_VALUE,
        ),
        (
            {
                "type": "property",
                "field": "created_on",
                "operator": "in_last_days",
                "value": language.MAX_DAY_COUNT + 1,
            },
            language.MAX_DAY_COUNT,
        ),
        (
            {
                "type": "property",
                "field": "created_on",
                "operator": "more_than_days_ago",
                "value": language.MIN_DAY_COUNT - 1,
            },
            language.MIN_DAY_COUNT,
        ),
    ],
    ids=["list", "text", "days high", "days low"],
)
def test_each_value_limit_is_enforced_and_written(condition, limit):
    assert codes(condition) == ["invalid_value"]
    assert f" {limit}" in PAGE.split("## Values and limits")[1].split("## Windows")[0]
    ok = {**condition}
    if isinstance(ok["value"], list | str):
        ok["value"] = ok["value"][:limit]
    else:
        ok["value"] = limit
    assert codes(ok) == []


def test_a_window_on_undated_rows_is_refused_and_the_page_says_so():
    found = codes(
        {
            "type": "relationship",
            "relation": "company",
            "operator": "gte",
            "value": 1,
            "window": {"kind": "previous_days", "days": 7},
        }
    )
    assert found == ["window_not_applicable"]
    assert "`window_not_applicable`" in PAGE


def test_the_plans_on_the_page_are_the_plans_enforced():
    for name, plan in PLANS.items():
        assert (
            f" {plan.max_groups} | {plan.max_conditions_per_group} | {plan.max_depth} |"
            f" {plan.max_segments} |" in PAGE
        ), name


def test_every_operator_is_defined_somewhere_on_the_page():
    for op in Operator:
        assert f"`{op.value}`" in PAGE, op
    assert "`more_than_days_ago` N matches" in PAGE
