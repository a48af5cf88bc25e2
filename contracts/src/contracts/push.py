"""What frontends receive in real time, on Pusher and on the native websocket.

Two events: `segment.status` whenever a segment's build changes state (with the
rules version it builds, since when, and why it failed or was skipped, plus the
refresh run's progress when it is part of one), and `segment.changed` when a
segment's metadata changes (created, renamed, archived, unarchived, deleted).

Each goes on the account's channel, for users who see the whole account, and on
its creator's owner channel, for a user whose view is `owned`: such a user hears
only of segments they may read. `GET /v1/realtime/channel` names the caller's.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.messages import BuildCause, BuildState, BuildStatus, ChangeKind, RunProgress

STATUS_EVENT = "segment.status"
CHANGE_EVENT = "segment.changed"


def account_channel(account_id: UUID) -> str:
    """Private: every push of the account; the gateway signs a subscription to it only for
    the caller's own account, and only when their view scope is `all`."""
    return f"private-account-{account_id.hex}"


def owner_channel(account_id: UUID, user_id: str) -> str:
    """Private: the pushes of one user's own segments, for a user whose view is `owned`.
    User ids may hold characters a channel name may not, so the name carries a digest."""
    digest = hashlib.sha256(user_id.encode()).hexdigest()[:32]
    return f"private-account-{account_id.hex}-owner-{digest}"


class SegmentStatusPush(BaseModel):
    """A segment's build changed state."""

    model_config = ConfigDict(frozen=True)

    event: Literal["segment.status"] = Field("segment.status", description="Pusher event name.")
    message_id: UUID = Field(description="Id of the platform message behind this push.")
    correlation_id: UUID | None = Field(
        None, description="The request that caused it (its X-Request-ID), for tracing."
    )
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
    anomaly: str | None = Field(
        None,
        description="Why the committed size is suspicious (over the account's threshold, or "
        "emptied); the build is done all the same.",
    )
    error: str | None = Field(None, description="The reason, for a failed or canceled build.")
    waiting: str | None = Field(
        None,
        description="Why the build waits longer than expected, while it waits: the dependency"
        " it waits for, or how much longer than usual its job has run.",
    )
    run: RunProgress | None = Field(None, description="The refresh run's progress, if any.")


class SegmentChangePush(BaseModel):
    """A segment's metadata changed: another tab's list must follow."""

    model_config = ConfigDict(frozen=True)

    event: Literal["segment.changed"] = Field("segment.changed", description="Pusher event name.")
    message_id: UUID
    correlation_id: UUID | None = Field(
        None, description="The request that caused it (its X-Request-ID), for tracing."
    )
    segment_id: UUID
    change: ChangeKind
    rules_version: int
    rules_changed: bool


AnyPush = SegmentStatusPush | SegmentChangePush
