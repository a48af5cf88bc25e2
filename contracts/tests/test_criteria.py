"""The RFC frontend's rule_set shape, converted to and from the canonical rules: data in,
canonical tree (and the path of each row) out."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.catalog import base_catalog
from contracts.criteria import (
    RULE_SET_EXAMPLE,
    CriteriaError,
    CriteriaRuleSet,
    NoCriteriaForm,
    from_canonical,
    to_canonical,
)
from contracts.rules import RuleSet

CATALOG = base_catalog()


def row(field: str, field_type: str, condition: str, value: Any = None, **extra: Any) -> dict:
    return {
        "field": field,
        "fieldType": field_type,
        "condition": condition,
        "value": value,
        **extra,
    }


def canonical(rule_set: dict[str, Any]) -> dict[str, Any]:
    converted = to_canonical(CriteriaRuleSet.model_validate(rule_set), CATALOG)
    return converted.rules.model_dump(mode="json", exclude_defaults=True)["root"]


def test_groups_of_rows_become_groups_of_conditions():
    assert canonical(RULE_SET_EXAMPLE) == {
        "rules": [
            {
                "rules": [
                    {"field": "city", "operator": "equals", "value": "Jakarta"},
                    {"field": "age", "operator": "gt", "value": 30},
                ],
            },
            {
                "rules": [{"field": "email_opt_in", "operator": "is_true"}],
            },
        ],
    }


def test_boolean_is_not_true_also_matches_the_empty_value():
    root = canonical({"groups": [{"criteria": [row("is_vip", "boolean", "is_not", True)]}]})
    assert root["rules"][0]["rules"] == [
        {
            "negate": True,
            "rules": [{"field": "is_vip", "operator": "is_true"}],
        }
    ]


def test_is_empty_takes_the_empty_string_the_frontend_sends():
    root = canonical({"groups": [{"criteria": [row("city", "single_line_text", "is_empty", "")]}]})
    assert root["rules"][0]["rules"] == [{"field": "city", "operator": "is_empty"}]


def test_rows_fold_left_to_right():
    a = row("city", "single_line_text", "equals", "a")
    b = row("city", "single_line_text", "equals", "b", operator="or")
    c = row("age", "number", "gt", 1, operator="and")
    group = canonical({"groups": [{"criteria": [a, b, c]}]})["rules"][0]
    assert "combinator" not in group  # (a or b) and c
    assert group["rules"][0] == {
        "combinator": "or",
        "rules": [
            {"field": "city", "operator": "equals", "value": "a"},
            {"field": "city", "operator": "equals", "value": "b"},
        ],
    }
    assert group["rules"][1]["field"] == "age"


def test_each_canonical_row_path_maps_back_to_its_row():
    a = row("city", "single_line_text", "equals", "a")
    b = row("city", "single_line_text", "equals", "b", operator="or")
    c = row("age", "number", "gt", 1, operator="and")
    converted = to_canonical(
        CriteriaRuleSet.model_validate({"groups": [{"criteria": [a]}, {"criteria": [a, b, c]}]}),
        CATALOG,
    )
    assert (
        converted.criteria_path("rules.root.rules[1].rules[0].rules[1].value")
        == "rule_set.groups[1].criteria[1].value"
    )
    assert (
        converted.criteria_path("rules.root.rules[1].rules[1].field")
        == "rule_set.groups[1].criteria[2].field"
    )
    assert converted.criteria_path("rules.root.rules[0]") == "rule_set.groups[0]"


@pytest.mark.parametrize(
    ("item", "path", "code"),
    [
        (row("age", "single_line_text", "gt", 1), "fieldType", "field_type_mismatch"),
        (row("age", "number", "bigger", 1), "condition", "invalid_condition"),
        (row("is_vip", "boolean", "is", "yes"), "value", "invalid_value"),
    ],
)
def test_a_row_that_cannot_convert_is_named_by_its_path(item, path, code):
    with pytest.raises(CriteriaError) as caught:
        to_canonical(
            CriteriaRuleSet.model_validate(
                {"groups": [{"criteria": [row("city", "single_line_text", "is_empty"), item]}]}
            ),
            CATALOG,
        )
    assert caught.value.errors[0][:2] == (f"rule_set.groups[0].criteria[1].{path}", code)


def test_a_tree_the_rows_cannot_show_says_why():
    rules = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "rules": [
                    {"type": "event", "event": "web_conversion", "operator": "gte", "value": 1}
                ],
            },
        }
    )
    with pytest.raises(NoCriteriaForm, match="event conditions"):
        from_canonical(rules, CATALOG)
