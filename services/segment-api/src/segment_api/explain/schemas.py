"""Request and response bodies of an explanation: one member against a rule tree."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from contracts.rules import RULES_EXAMPLE
from segment_api.segments.schemas import RulesInput
from segment_api.shared.schemas import ONE_SHAPE

_NODES_EXAMPLE: list[JsonValue] = [
    {"path": "rules.root", "matched": False, "value": None},
    {"path": "rules.root.rules[0]", "matched": True, "value": 41},
    {"path": "rules.root.rules[1]", "matched": False, "value": "Bandung"},
]


class NodeVerdict(BaseModel):
    path: str = Field(description="The rule node's JSON path, as in errors and node counts.")
    matched: bool = Field(description="Whether the member passes this node on its own.")
    value: Any = Field(
        None,
        description="What decided a condition: the field's value, the count or metric over "
        "the window, whether the embedded segment holds the member, a behaviour's verdict. "
        "None for groups.",
    )


class ExplainOut(BaseModel):
    """Why one member is (or is not) in a segment, node by node, from the very predicates
    the build runs."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "segment_id": "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44",
                    "member_id": "cust_0000042",
                    "matches_now": False,
                    "in_table": True,
                    "agrees": False,
                    "reason": "the data changed since the last build (2026-12-07 04:00 UTC)",
                    "nodes": _NODES_EXAMPLE,
                }
            ]
        }
    )

    segment_id: UUID | None = Field(description="None for unsaved rules.")
    member_id: str
    matches_now: bool = Field(description="The rules' verdict on today's data.")
    in_table: bool | None = Field(description="In the built member table (None: not built).")
    agrees: bool | None = Field(description="Whether the two say the same.")
    reason: str | None = Field(None, description="Why they differ, when they do.")
    nodes: list[NodeVerdict]


class ExplainRequest(RulesInput):
    """Unsaved rules (any accepted shape) and the member to explain."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            **ONE_SHAPE,
            "examples": [{"rules": RULES_EXAMPLE, "member_id": "cust_0000042"}],
        },
    )

    member_id: str = Field(min_length=1, max_length=200, description="The object's id.")
