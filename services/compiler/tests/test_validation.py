"""The validator reports every error at once, each with its JSON path."""

from __future__ import annotations

import pytest

from compiler.errors import RuleSetInvalidError
from compiler.typed import check, type_rule_set
from contracts.rules import RuleSet


def rule_set(*conditions, obj="customer"):
    return RuleSet.model_validate(
        {"object": obj, "root": {"type": "group", "rules": list(conditions)}}
    )


def errors_of(*conditions):
    return [(e.path, e.code) for e in check(rule_set(*conditions))]


CASES = [
    (
        {"type": "property", "field": "shoe_size", "operator": "gt", "value": 1},
        ("rules.root.rules[0].field", "unknown_field"),
    ),
    (
        {"type": "property", "field": "is_vip", "operator": "gt", "value": 1},
        ("rules.root.rules[0].operator", "operator_not_allowed"),
    ),
    (
        {"type": "property", "field": "age", "operator": "gt", "value": "thirty"},
        ("rules.root.rules[0].value", "invalid_value"),
    ),
    (
        {"type": "property", "field": "age", "operator": "gt", "value": True},
        ("rules.root.rules[0].value", "invalid_value"),
    ),
    (
        {"type": "property", "field": "created_on", "operator": "on", "value": "2024-13-01"},
        ("rules.root.rules[0].value", "invalid_value"),
    ),
    (
        {"type": "property", "field": "age", "operator": "between", "value": [40, 30]},
        ("rules.root.rules[0].value", "invalid_value"),
    ),
    (
        {"type": "property", "field": "city", "operator": "in_list", "value": []},
        ("rules.root.rules[0].value", "invalid_value"),
    ),
    (
        {"type": "property", "field": "city", "operator": "is_empty", "value": "x"},
        ("rules.root.rules[0].value", "invalid_value"),
    ),
    (
        {"type": "property", "field": "created_on", "operator": "in_last_days", "value": 0},
        ("rules.root.rules[0].value", "invalid_value"),
    ),
    (
        {"type": "property", "field": "city", "operator": "equals", "value": ""},
        ("rules.root.rules[0].value", "invalid_value"),
    ),
]


@pytest.mark.parametrize(
    ("condition", "error"), CASES, ids=[c[1][1] + ":" + str(c[0]["value"]) for c in CASES]
)
def test_one_bad_condition(condition, error):
    assert errors_of(condition) == [error]


def test_every_error_is_reported_at_once_with_nested_paths():
    found = errors_of(
        {"type": "property", "field": "age", "operator": "gt", "value": 30},
        {
            "type": "group",
            "rules": [
                {"type": "property", "field": "nope", "operator": "gt", "value": 1},
                {"type": "property", "field": "age", "operator": "contains", "value": "x"},
            ],
        },
    )
    assert found == [
        ("rules.root.rules[1].rules[0].field", "unknown_field"),
        ("rules.root.rules[1].rules[1].operator", "operator_not_allowed"),
    ]


def test_unknown_object_type():
    with pytest.raises(RuleSetInvalidError) as info:
        type_rule_set(
            rule_set(
                {"type": "property", "field": "age", "operator": "gt", "value": 1}, obj="spaceship"
            )
        )
    assert [(e.path, e.code) for e in info.value.errors] == [("rules.object", "unknown_object")]


def test_a_valid_rule_set_has_no_errors():
    assert errors_of({"type": "property", "field": "age", "operator": "gte", "value": 18.5}) == []
