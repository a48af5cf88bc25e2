"""Embedding rules as pure functions over a segment graph."""

from __future__ import annotations

from uuid import uuid4

from contracts.rules import RuleSet
from segment_api.segments.embedding import Known, check, reaches, segment_conditions

A, B, C, D = (uuid4() for _ in range(4))


def embedding(*ids, obj="customer") -> RuleSet:
    return RuleSet.model_validate(
        {
            "object": obj,
            "root": {
                "type": "group",
                "rules": [
                    {"type": "property", "field": "age", "operator": "gt", "value": 1},
                    {
                        "type": "group",
                        "rules": [{"type": "segment", "segment_id": str(i)} for i in ids],
                    },
                ],
            },
        }
    )


def test_membership_conditions_are_found_with_their_paths():
    assert segment_conditions(embedding(B, C)) == [
        ("rules.root.rules[1].rules[0].segment_id", B),
        ("rules.root.rules[1].rules[1].segment_id", C),
    ]


def test_reachability_follows_chains():
    graph = {A: {B}, B: {C}}
    assert reaches(graph, A, C)
    assert not reaches(graph, C, A)


def test_each_rule_has_its_code():
    known = {
        B: Known("customer", "active"),
        C: Known("session", "active"),
        D: Known("customer", "active"),
    }
    graph = {D: {A}}  # D already embeds A
    errors = check(A, "customer", embedding(A, B, B, C, D, uuid4()), known, graph)
    assert [e.code for e in errors] == [
        "embedding_self",
        "embedding_duplicate",
        "embedding_object_mismatch",
        "embedding_cycle",
        "embedding_not_found",
    ]
