from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.rules import RULES_EXAMPLE, Group, PropertyCondition, RuleSet


def test_the_documented_example_is_a_valid_rule_set():
    rule_set = RuleSet.model_validate(RULES_EXAMPLE)
    assert rule_set.object == "customer"
    assert all(isinstance(r, PropertyCondition) for r in rule_set.root.rules)


def test_groups_nest_and_keep_their_combinator_and_negation():
    rule_set = RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [
                    {
                        "type": "group",
                        "combinator": "or",
                        "negate": True,
                        "rules": [
                            {"type": "property", "field": "age", "operator": "gt", "value": 1}
                        ],
                    }
                ],
            },
        }
    )
    inner = rule_set.root.rules[0]
    assert isinstance(inner, Group)
    assert inner.combinator == "or" and inner.negate


@pytest.mark.parametrize(
    "root",
    [
        {"type": "group", "rules": []},  # empty group
        {"type": "group", "rules": [{"type": "nope"}]},  # unknown kind
        {"type": "group", "rules": [{"type": "property", "field": "a", "operator": "zz"}]},
        {
            "type": "group",
            "rules": [{"type": "property", "field": "a", "operator": "gt", "value": {"nested": 1}}],
        },  # not a scalar
    ],
)
def test_malformed_trees_are_rejected(root):
    with pytest.raises(ValidationError):
        RuleSet.model_validate({"object": "customer", "root": root})


def test_values_keep_their_json_type():
    cond = PropertyCondition.model_validate({"field": "a", "operator": "equals", "value": "30"})
    assert cond.value == "30"  # a string stays a string; the validator judges it by field type


def test_every_catalog_reference_resolves():
    from contracts.catalog import OBJECT_TYPES

    for obj in OBJECT_TYPES.values():
        for rel in obj.relations:
            target = OBJECT_TYPES[rel.target]
            assert obj.field(rel.object_column) or rel.object_column == obj.id_column
            assert target.field(rel.target_column) or rel.target_column == target.id_column
        for metric in obj.metrics:
            rel = obj.relation(metric.relation)
            assert rel is not None
            assert metric.field is None or OBJECT_TYPES[rel.target].field(metric.field)
        for source in obj.events:
            rel = obj.relation(source.relation)
            assert rel is not None and OBJECT_TYPES[rel.target].field(source.name_field)
        for channel in obj.channels:
            assert obj.field(channel.address_field) and obj.field(channel.consent_field)
        if obj.time_field:
            assert obj.field(obj.time_field).type == "date"
