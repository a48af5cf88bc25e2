"""Request and response bodies of preview, detail, members and performance."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.messages import BuildStatus
from segment_api.segments.schemas import RulesInput
from segment_api.shared.cost import CostOut
from segment_api.shared.schemas import MAX_PAGE, Reachability


class MembersQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=100)
    as_of_build: UUID | None = Field(
        None, description="The members this past (done) build left, rebuilt from the log."
    )
    bucket: str | None = Field(
        None, max_length=40, description="Only this bucket of the segment's split."
    )


class PreviewRequest(RulesInput):
    segment_id: UUID | None = Field(
        None, description="When editing a saved segment: also count who would enter and exit."
    )
    sample_size: int = Field(10, ge=0, le=50)


class NodeCount(BaseModel):
    path: str = Field(description="JSON path of a group or condition.")
    matched: int = Field(description="Objects that node matches on its own.")


class EditDiff(BaseModel):
    would_enter: int
    would_exit: int
    would_enter_sample: list[dict[str, Any]] = Field(
        default_factory=list,
        description="A few of those who would enter (id order), with the display columns.",
    )
    would_exit_sample: list[dict[str, Any]] = Field(
        default_factory=list,
        description="A few of those who would leave (id order), with the display columns.",
    )


class PreviewOut(BaseModel):
    total_matched: int
    total_customer_base: int = Field(description="All objects of the type (the RFC's name).")
    total_base: int = Field(description="The same as total_customer_base.")
    percentage: float = Field(description="100 * total_matched / total_base.")
    sample: list[dict[str, Any]]
    nodes: list[NodeCount]
    edit_diff: EditDiff | None = None
    cost: CostOut | None = Field(
        None, description="Bytes a build and a refresh would process, a month's, the threshold."
    )


class DetailOut(BaseModel):
    id: UUID
    name: str
    status: str
    build_status: BuildStatus
    total_matched: int
    total_base: int
    percentage_reach: float
    last_updated: datetime | None
    reachability: Reachability | None = Field(
        None, description="Per channel (WhatsApp, email); none for archived segments."
    )


class BucketCount(BaseModel):
    name: str
    percent: float = Field(description="Its share of the split.")
    members: int = Field(description="Members in it, in the built table.")


class BucketsOut(BaseModel):
    """A split segment's buckets, each with its members now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "segment_id": "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44",
                    "total": 1000,
                    "buckets": [
                        {"name": "A", "percent": 45, "members": 452},
                        {"name": "B", "percent": 45, "members": 447},
                        {"name": "holdout", "percent": 10, "members": 101},
                    ],
                }
            ]
        }
    )

    segment_id: UUID
    total: int
    buckets: list[BucketCount]


class MembersPage(BaseModel):
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int


class GrowthPoint(BaseModel):
    at: datetime
    members: int
    entered: int | None = None
    exited: int | None = None
    build_id: UUID | None = Field(None, description="The build that left this size.")
    anomaly: str | None = Field(None, description="Why the size is suspicious, if it is.")


class Bucket(BaseModel):
    bucket: str
    members: int


class PerformanceOut(BaseModel):
    growth: list[GrowthPoint] = Field(description="Size after each successful build.")
    distributions: dict[str, list[Bucket]] = Field(
        description="Members by source, domicile, age band and gender (customer segments)."
    )
