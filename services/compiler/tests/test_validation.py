"""The validator reports every error at once, each with its JSON path."""

from __future__ import annotations

import pytest

from compiler.errors import RuleSetInvalidError
from compiler.typed import check, type_rule_set
from contracts.limits import PLANS
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


# --- the behaviour conditions' bad input ---------------------------------------------------

P = "rules.root.rules[0]"


def _ev(name="purchase", **kw):
    return {"event": "ecommerce", "name": name, **kw}


BEHAVIOUR_CASES = [
    (
        {"type": "sequence", "steps": [_ev(within_days=2), _ev()]},
        [(f"{P}.steps[0].within_days", "invalid_value")],
    ),
    (
        {"type": "sequence", "steps": [_ev(), _ev(within_days=10)], "total_within_days": 7},
        [(f"{P}.steps[1].within_days", "gap_exceeds_window")],
    ),
    (
        {"type": "sequence", "steps": [_ev(), {"event": "teleport"}]},
        [(f"{P}.steps[1].event", "unknown_event")],
    ),
    (
        {"type": "sequence", "steps": [_ev(), _ev()], "then_not": {"event": "x", "within_days": 1}},
        [(f"{P}.then_not.event", "unknown_event")],
    ),
    (
        {"type": "occurrence", "which": "first", "event": "nope"},
        [(f"{P}.event", "unknown_event")],
    ),
    (
        {
            "type": "occurrence",
            "which": "first",
            **_ev(),
            "where": [{"type": "property", "field": "colour", "operator": "equals", "value": "x"}],
        },
        [(f"{P}.where[0].field", "unknown_field")],
    ),
    (
        {
            "type": "stopped",
            **_ev(filters=[{"type": "property", "field": "value", "operator": "gt", "value": "x"}]),
            "base_days": 9,
            "recent_days": 9,
        },
        [(f"{P}.filters[0].value", "invalid_value")],
    ),
    (
        {"type": "regularly", **_ev(), "period": "week", "at_least": 5, "of_last": 4},
        [(f"{P}.at_least", "invalid_value")],
    ),
    (
        {"type": "regularly", **_ev(), "period": "month", "at_least": 1, "of_last": 61},
        [(f"{P}.of_last", "limit_exceeded")],
    ),
]


@pytest.mark.parametrize(("condition", "errors"), BEHAVIOUR_CASES)
def test_a_bad_behaviour_condition_names_its_path(condition, errors):
    assert errors_of(condition) == errors


def test_a_sequence_reads_one_source_of_rows():
    found = [
        (e.path, e.code)
        for e in check(
            rule_set(
                {
                    "type": "sequence",
                    "steps": [{"event": "web_conversion"}, {"event": "ecommerce"}],
                },
                obj="user",
            )
        )
    ]
    assert found == [(f"{P}.steps[1].event", "mixed_event_sources")]


def test_the_plan_caps_the_steps_of_a_sequence():
    three = rule_set({"type": "sequence", "steps": [_ev()] * 3})
    four = rule_set({"type": "sequence", "steps": [_ev()] * 4})
    assert check(three, limits=PLANS["plus"]) == []
    assert [(e.path, e.code) for e in check(four, limits=PLANS["plus"])] == [
        (f"{P}.steps", "limit_exceeded")
    ]
    six = rule_set({"type": "sequence", "steps": [_ev()] * 6})
    assert [e.code for e in check(six, limits=PLANS["standard"])] == ["limit_exceeded"]


@pytest.mark.parametrize(
    "condition",
    [
        {"type": "sequence", "steps": [_ev()]},  # one step is no sequence
        {"type": "sequence", "steps": [_ev(), _ev(within_days=0)]},
        {"type": "sequence", "steps": [_ev(), _ev()], "then": _ev()},
        {"type": "regularly", **_ev(), "period": "year", "at_least": 1, "of_last": 1},
        {"type": "stopped", **_ev(), "base_days": 0, "recent_days": 1},
    ],
)
def test_the_schema_refuses_what_cannot_be_a_behaviour_condition(condition):
    with pytest.raises(ValueError, match=r"rules\.0"):
        rule_set(condition)
