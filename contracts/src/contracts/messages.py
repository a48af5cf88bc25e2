"""The messages of the four platform topics and the build request topic.

Events are named in the past tense: each states a fact that already happened.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Envelope

_EXAMPLE_SEGMENT = "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    ARCHIVED = "archived"
    UNARCHIVED = "unarchived"
    DELETED = "deleted"


class BuildStatus(StrEnum):
    """A segment's build state, as the frontend shows it."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


class BuildMode(StrEnum):
    BUILD = "build"  # CREATE OR REPLACE the member table
    REFRESH = "refresh"  # bring an existing member table up to date


class SegmentChangedData(_Data):
    segment_id: UUID = Field(description="The segment that changed.", examples=[_EXAMPLE_SEGMENT])
    change: ChangeKind = Field(description="What happened to it.")
    rules_version: int = Field(
        ge=1, description="Version of the rule set after the change; builds carry it along."
    )
    rules_changed: bool = Field(
        True, description="False when only name/description changed: no rebuild is needed."
    )


class SegmentChanged(Envelope):
    """A segment was created, edited, archived, unarchived or deleted."""

    type: Literal["segment.changed"] = "segment.changed"
    data: SegmentChangedData


class BuildRequestedData(_Data):
    segment_id: UUID = Field(description="The segment to build.", examples=[_EXAMPLE_SEGMENT])
    mode: BuildMode = Field(BuildMode.REFRESH, description="Replace the table, or refresh it.")
    reason: Literal["schedule", "cascade", "manual"] = Field(
        description="Why the build was asked for."
    )
    run_id: UUID | None = Field(None, description="The refresh run or cascade it belongs to.")


class BuildRequested(Envelope):
    """The scheduler (or an operator) asked for a segment's table to be rebuilt."""

    type: Literal["build.requested"] = "build.requested"
    data: BuildRequestedData


class JobSubmittedData(_Data):
    segment_id: UUID = Field(description="The segment being built.", examples=[_EXAMPLE_SEGMENT])
    job_id: str = Field(description="BigQuery job id.", examples=["seg_6f1c2a5e_v1_0a1b2c3d"])
    mode: BuildMode = Field(description="Replace the table, or refresh it.")
    rules_version: int = Field(ge=1, description="The rule set version the job builds.")
    table: str = Field(
        description="Fully qualified member table the job writes.",
        examples=["demo.acct_d0000000000040008000000000000001.segment_6f1c2a5e"],
    )
    run_id: UUID | None = Field(None, description="The refresh run or cascade it belongs to.")
    build_time: datetime | None = Field(
        None, description="The run's time; members who entered in it carry it as entered_at."
    )


class JobSubmitted(Envelope):
    """A build job for a segment's member table was submitted to BigQuery."""

    type: Literal["job.submitted"] = "job.submitted"
    data: JobSubmittedData


class JobCompletedData(_Data):
    segment_id: UUID = Field(description="The segment built.", examples=[_EXAMPLE_SEGMENT])
    job_id: str = Field(description="BigQuery job id.")
    status: BuildStatus = Field(description="done, failed or canceled.")
    rules_version: int = Field(ge=1, description="The rule set version the job built.")
    member_count: int | None = Field(None, ge=0, description="Rows in the member table.")
    built_at: datetime | None = Field(None, description="When the job ended.")
    duration_ms: int | None = Field(None, ge=0, description="How long BigQuery ran the job.")
    bytes_billed: int | None = Field(None, ge=0, description="Bytes billed, where reported.")
    error: str | None = Field(None, description="Why the job failed, as BigQuery said it.")
    entered: int | None = Field(None, ge=0, description="Members who entered in this run.")
    exited: int | None = Field(None, ge=0, description="Members who left in this run (refresh).")
    run_id: UUID | None = Field(None, description="The refresh run or cascade it belongs to.")


class JobCompleted(Envelope):
    """A segment build job ended: done, failed or canceled."""

    type: Literal["job.completed"] = "job.completed"
    data: JobCompletedData


class CascadeRequestedData(_Data):
    origin_segment_id: UUID = Field(description="The segment whose change must propagate.")
    parent_segment_ids: list[UUID] = Field(
        description="Segments that embed the origin directly; the scheduler plans the rest."
    )
    cascade_id: UUID = Field(description="Shared by every rebuild of one cascade.")


class CascadeRequested(Envelope):
    """A segment embedded by others was rebuilt; its ancestors need rebuilding."""

    type: Literal["cascade.requested"] = "cascade.requested"
    data: CascadeRequestedData


AnyMessage = SegmentChanged | BuildRequested | JobSubmitted | JobCompleted | CascadeRequested
