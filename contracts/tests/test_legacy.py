"""Legacy rule groups (the first document's shape) become canonical rule sets."""

from __future__ import annotations

import pytest

from contracts.legacy import LegacyConversionError, from_legacy, operator
from contracts.rules import Operator

SEGMENT = "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44"


def test_every_documented_field_is_read():
    rule_set = from_legacy(
        {
            "ruleGroups": [
                {
                    "mainOperator": "exclude",
                    "conjunction": "or",
                    "segmentObject": "session",
                    "conditionFocus": "property",
                    "embeddedSegmentId": SEGMENT,
                    "dateRangeFilter": {"type": "previous-period", "numberOfDaysPrevious": 30},
                    "g0": {
                        "conjunction": "or",
                        "type": "dimension",
                        "key": "channel",
                        "condition": "equals",
                        "value": "paid",
                    },
                    "g1": {
                        "conjunction": "or",
                        "type": "number",
                        "key": "pageviews",
                        "condition": "greater-than",
                        "value": 3,
                    },
                }
            ]
        }
    )
    assert rule_set.object == "session"
    group = rule_set.root.rules[0].model_dump(mode="json")
    assert group["negate"] is True
    assert group["window"] == {"kind": "previous_days", "days": 30}
    embedded, conditions = group["rules"]
    assert embedded == {"type": "segment", "segment_id": SEGMENT, "operator": "in"}
    assert conditions["combinator"] == "or"
    assert [(r["field"], r["operator"], r["value"]) for r in conditions["rules"]] == [
        ("channel", "equals", "paid"),
        ("pageviews", "gt", 3),
    ]


def test_condition_conjunctions_fold_left_to_right():
    rule_set = from_legacy(
        [
            {
                "segmentObject": "people",
                "conjunction": "and",
                "g0": {"key": "lead_score", "condition": "gt", "value": 1},
                "g1": {"key": "lead_score", "condition": "lt", "value": 9},
                "g2": {
                    "conjunction": "or",
                    "key": "job_title",
                    "condition": "contains",
                    "value": "CEO",
                },
            }
        ]
    )
    inner = rule_set.root.rules[0].model_dump(mode="json")
    # (g0 AND g1) OR g2
    assert inner["combinator"] == "or"
    assert inner["rules"][0]["combinator"] == "and"
    assert len(inner["rules"][0]["rules"]) == 2


@pytest.mark.parametrize(
    ("focus", "expected"),
    [
        ("web-conversion-event", {"type": "event", "event": "web_conversion", "name": "signup"}),
        ("ecommerce-event", {"type": "event", "event": "ecommerce", "name": "signup"}),
        ("other-event", {"type": "event", "event": "custom", "name": "signup"}),
    ],
)
def test_event_focuses_become_event_conditions_with_property_filters(focus, expected):
    rule_set = from_legacy(
        {
            "ruleGroups": [
                {
                    "segmentObject": "user",
                    "conditionFocus": focus,
                    "g0": {"id": "signup", "property": "value", "condition": "gte", "value": 10},
                }
            ]
        }
    )
    cond = rule_set.root.rules[0].rules[0].model_dump(mode="json")
    assert {k: cond[k] for k in expected} == expected
    assert cond["filters"] == [
        {"type": "property", "field": "value", "operator": "gte", "value": 10}
    ]
    assert (cond["operator"], cond["value"]) == ("gte", 1)


def test_metric_relationship_and_custom_fields():
    rule_set = from_legacy(
        {
            "conjunction": "or",
            "ruleGroups": [
                {
                    "segmentObject": "crm-account",
                    "conditionFocus": "relationship",
                    "g0": {
                        "type": "crm-lifetime-count",
                        "key": "crm_contacts",
                        "condition": "gte",
                        "value": 2,
                    },
                },
                {
                    "segmentObject": "crm-account",
                    "conditionFocus": "metric",
                    "dateRangeFilter": {
                        "type": "specific-date-range",
                        "startDate": "2024-01-01",
                        "endDate": "2024-01-31",
                    },
                    "g0": {
                        "type": "metric",
                        "key": "crm_opportunities_amount_sum",
                        "condition": "greaterThan",
                        "value": 100,
                    },
                },
                {
                    "segmentObject": "crm-account",
                    "conditionFocus": "property",
                    "g0": {"type": "custom", "key": "Region Code", "condition": "is-not-empty"},
                },
            ],
        }
    )
    assert rule_set.object == "crm_account"
    assert rule_set.root.combinator == "or"
    relation, metric, custom = (g.rules[0].model_dump(mode="json") for g in rule_set.root.rules)
    assert (relation["relation"], relation["operator"], relation["value"]) == (
        "crm_contacts",
        "gte",
        2,
    )
    assert (metric["metric"], metric["operator"]) == ("crm_opportunities_amount_sum", "gt")
    assert rule_set.root.rules[1].window.kind == "range"
    assert (custom["field"], custom["operator"]) == ("cf_region_code", "is_not_empty")


def test_embedded_segment_without_conditions():
    rule_set = from_legacy([{"segmentObject": "customer", "embeddedSegmentId": SEGMENT}])
    assert rule_set.embedded_segment_ids() == [__import__("uuid").UUID(SEGMENT)]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not-equals", Operator.NOT_EQUALS),
        ("notEqual", Operator.NOT_EQUALS),
        ("greater-than-or-equal", Operator.GTE),
        ("is-empty", Operator.IS_EMPTY),
        ("in", Operator.IN_LIST),
        ("starts_with", Operator.STARTS_WITH),
        ("true", Operator.IS_TRUE),
    ],
)
def test_operator_spellings(raw, expected):
    assert operator(raw) is expected


def test_every_problem_is_reported_with_its_path():
    with pytest.raises(LegacyConversionError) as info:
        from_legacy(
            {
                "ruleGroups": [
                    {"segmentObject": "spaceship", "g0": {"key": "a", "condition": "equals"}},
                    {
                        "segmentObject": "session",
                        "conditionFocus": "property",
                        "g0": {"key": "a", "condition": "teleports"},
                    },
                    {"segmentObject": "session"},
                ]
            }
        )
    paths = [p for p, _ in info.value.errors]
    assert paths == ["ruleGroups[0].segmentObject", "ruleGroups[1].g0", "ruleGroups[2]"]
