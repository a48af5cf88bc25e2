"""Response body of an overlap: the regions of two to four segments' Venn diagram."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.rules import RULES_EXAMPLE
from segment_api.segments.schemas import RulesInput
from segment_api.shared.schemas import ONE_SHAPE

_A = "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44"
_B = "0b8e3a5c-7d21-4f6a-9c3e-5a1b2c3d4e5f"


class OverlapRequest(RulesInput):
    """Unsaved rules (any accepted shape) beside one to three built segments."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            **ONE_SHAPE,
            "examples": [{"rules": RULES_EXAMPLE, "segment_ids": [_A]}],
        },
    )

    segment_ids: list[UUID] = Field(min_length=1, max_length=3)


class Region(BaseModel):
    segments: list[UUID | None] = Field(
        description="In exactly these segments, and no other asked (None: the unsaved rules)."
    )
    members: int


class SegmentSize(BaseModel):
    segment_id: UUID | None = Field(description="None: the unsaved rules.")
    name: str
    members: int


class PairOverlap(BaseModel):
    a: UUID | None
    b: UUID | None
    both: int = Field(description="Members of both.")
    jaccard: float = Field(
        description="Members of both over members of either; 0 when both are empty."
    )


class OverlapOut(BaseModel):
    """How two to four segments of one object type overlap, from their built tables."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "object": "customer",
                    "segments": [
                        {"segment_id": _A, "name": "Adults", "members": 700},
                        {"segment_id": _B, "name": "Jakarta", "members": 300},
                    ],
                    "regions": [
                        {"segments": [_A], "members": 500},
                        {"segments": [_B], "members": 100},
                        {"segments": [_A, _B], "members": 200},
                    ],
                    "union": 800,
                    "pairs": [{"a": _A, "b": _B, "both": 200, "jaccard": 0.25}],
                }
            ]
        }
    )

    object: str
    segments: list[SegmentSize]
    regions: list[Region] = Field(description="Every non-empty region, its segments in order.")
    union: int
    pairs: list[PairOverlap]
