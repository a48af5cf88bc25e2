"""What frontends receive in real time, on Pusher and on the native websocket."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.messages import BuildStatus

STATUS_EVENT = "segment.status"


def account_channel(account_id: UUID) -> str:
    """Private: the gateway signs a subscription only for the caller's own account."""
    return f"private-account-{account_id.hex}"


class SegmentStatusPush(BaseModel):
    model_config = ConfigDict(frozen=True)

    event: str = Field(STATUS_EVENT, description="Event name, as on Pusher.")
    message_id: UUID = Field(description="Id of the platform message behind this push.")
    segment_id: UUID
    status: BuildStatus
    rules_version: int
    member_count: int | None = None
    built_at: datetime | None = None
    error: str | None = None
