"""Hostile values never change the compiled syntax tree; hostile field names never compile."""

from __future__ import annotations

import pytest
import sqlglot
from pydantic import ValidationError
from sqlglot import exp

from compiler.sql import Target
from compiler.statements import membership, record
from compiler.typed import check
from contracts.rules import RuleSet

HOSTILE = [
    "x' OR '1'='1",
    "x\\' OR 1=1 --",
    "`; DROP TABLE customers; --",
    "/* comment */",
    "a\nb",
    "ünïcødé ☃ \U0001d518",
    "%_%",
    "@p0",
    "\\",
    "'" * 50,
    "x" * 1000,
]


def compiled_tree(field: str, operator: str, value: object) -> exp.Expr:
    rs = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [
                    {"type": "property", "field": field, "operator": operator, "value": value}
                ],
            },
        }
    )
    sql = record(membership(rs, Target("proj", "acct")), "segment_1_log").sql
    return sqlglot.parse_one(sql, read="bigquery")


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("operator", ["equals", "contains", "starts_with", "not_equals"])
def test_a_hostile_value_leaves_the_tree_as_a_benign_one_does(operator, value):
    assert compiled_tree("city", operator, value) == compiled_tree("city", operator, "benign")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_list_values_too(value):
    assert compiled_tree("city", "in_list", [value, "b"]) == compiled_tree(
        "city", "in_list", ["a", "b"]
    )


@pytest.mark.parametrize("field", ["age`; DROP TABLE x; --", "t.age", "age OR 1=1", "AGE", "`age`"])
def test_field_names_outside_the_catalog_are_rejected(field):
    rs = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": field, "operator": "equals", "value": "x"}],
            },
        }
    )
    assert [e.code for e in check(rs)] == ["unknown_field"]


def event_tree(name: str, filter_value: str) -> exp.Expr:
    rs = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [
                    {
                        "type": "event",
                        "event": "custom",
                        "name": name,
                        "operator": "gte",
                        "value": 1,
                        "filters": [
                            {
                                "type": "property",
                                "field": "product",
                                "operator": "contains",
                                "value": filter_value,
                            }
                        ],
                    }
                ],
            },
        }
    )
    return sqlglot.parse_one(record(membership(rs, Target("p", "d")), "s").sql, read="bigquery")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_event_names_and_filters_stay_values(value):
    assert event_tree("signup", value) == event_tree("signup", "benign")
    if len(value) > 200:  # names are bounded by the language itself
        with pytest.raises(ValidationError):
            event_tree(value, "benign")
    else:
        assert event_tree(value, "benign") == event_tree("signup", "benign")


@pytest.mark.parametrize("value", HOSTILE[:4])
@pytest.mark.parametrize(
    ("kind", "key", "code"),
    [
        ("metric", "metric", "unknown_metric"),
        ("relationship", "relation", "unknown_relation"),
        ("event", "event", "unknown_event"),
    ],
)
def test_hostile_catalog_names_are_rejected(value, kind, key, code):
    rs = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": kind, key: value, "operator": "gte", "value": 1}],
            },
        }
    )
    assert [e.code for e in check(rs)] == [code]
