"""What frontends receive in real time, on Pusher and on the native websocket.

Two events on the account's channel: `segment.status` whenever one of its
segments' builds changes state (with the rules version it builds, since when,
and why it failed or was skipped, plus the refresh run's progress when it is
part of one), and `segment.changed` when a segment's metadata changes (created,
renamed, archived, unarchived, deleted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.messages import BuildCause, BuildState, BuildStatus, ChangeKind, RunProgress

STATUS_EVENT = "segment.status"
CHANGE_EVENT = "segment.changed"


def account_channel(account_id: UUID) -> str:
    """Private: the gateway signs a subscription only for the caller's own account."""
    return f"private-account-{account_id.hex}"


class SegmentStatusPush(BaseModel):
    """A segment's build changed state."""

    model_config = ConfigDict(frozen=True)

    event: Literal["segment.status"] = Field("segment.status", description="Pusher event name.")
    message_id: UUID = Field(description="Id of the platform message behind this push.")
    segment_id: UUID
    status: BuildStatus = Field(description="What the segment list shows.")
    state: BuildState | None = Field(None, description="The build's own state.")
    build_id: UUID | None = None
    cause: BuildCause | None = None
    rules_version: int
    since: datetime | None = Field(None, description="When the build entered this state.")
    reason: str | None = Field(None, description="Why it failed, was skipped or canceled.")
    member_count: int | None = None
    entered: int | None = None
    exited: int | None = None
    built_at: datetime | None = None
    error: str | None = Field(None, description="The reason, for a failed or canceled build.")
    run: RunProgress | None = Field(None, description="The refresh run's progress, if any.")


class SegmentChangePush(BaseModel):
    """A segment's metadata changed: another tab's list must follow."""

    model_config = ConfigDict(frozen=True)

    event: Literal["segment.changed"] = Field("segment.changed", description="Pusher event name.")
    message_id: UUID
    segment_id: UUID
    change: ChangeKind
    rules_version: int
    rules_changed: bool


AnyPush = SegmentStatusPush | SegmentChangePush
