"""Bodies of build history, refresh runs and membership changes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.messages import BuildCause, BuildState


class BuildRecordOut(BaseModel):
    """One build of a segment, as the scheduler recorded it."""

    id: UUID
    state: BuildState
    cause: BuildCause
    mode: str = Field(description="build (replace the table) or refresh (merge into it)")
    run_id: UUID | None = Field(description="The refresh run it belonged to.")
    origin_segment_id: UUID | None = Field(
        description="For a cascade: the embedded segment whose rebuild caused it."
    )
    rules_version: int
    reason: str | None
    job_id: str | None
    requested_at: datetime
    submitted_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    member_count: int | None
    entered: int | None
    exited: int | None
    bytes_billed: int | None
    build_time: datetime | None = Field(
        None, description="The time the build stamped on the intervals it opened and closed."
    )
    anomaly: str | None = Field(
        None,
        description="Why its size is suspicious (over the account's threshold, or emptied); "
        "the build is done all the same.",
    )
    waiting: str | None = Field(
        None, description="Why it waits longer than expected, while it is open."
    )


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    build_id: UUID | None = Field(None, description="Only this build's changes.")
    change: Literal["entered", "exited"] | None = Field(
        None, description="Only entries, or only exits."
    )
    since: datetime | None = Field(None, description="At or after this time.")
    until: datetime | None = Field(None, description="Before this time.")
    cursor: str | None = Field(
        None, max_length=512, description="`next_cursor` of the previous page."
    )
    limit: int = Field(50, ge=1, le=500)


class MemberChange(BaseModel):
    """One member entering or leaving, with the object's display columns."""

    model_config = ConfigDict(extra="allow")

    change: Literal["entered", "exited"]
    object_id: str = Field(description="The member's id.")
    at: datetime = Field(description="The build time of the build that let them in or out.")
    build_id: UUID = Field(description="That build.")
    rules_version: int = Field(description="The rules version it applied.")


class ChangesPage(BaseModel):
    items: list[MemberChange] = Field(description="Newest first, then by member id.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class RefreshRunOut(BaseModel):
    """A refresh run's progress: how many of its builds are in each state."""

    id: UUID
    trigger: str = Field(description="schedule or manual")
    state: str = Field(description="running, or finished once none of its builds is open")
    scheduled_for: datetime
    started_at: datetime
    finished_at: datetime | None
    total: int
    counts: dict[str, int]
