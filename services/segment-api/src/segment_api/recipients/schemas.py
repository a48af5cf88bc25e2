"""Bodies of Send Campaign (recipient lists)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from segment_api.shared.schemas import Channel, Reachability


class ReachabilityOut(Reachability):
    """Send Campaign's audience size by channel: the same query the recipient list uses."""

    segment_id: UUID
    total_matched: int


class RecipientsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel = Field(description="`whatsapp` or `email`.", examples=["whatsapp"])
    bucket: str | None = Field(
        None, max_length=40, description="Only this bucket of the segment's split.", examples=["A"]
    )


class RecipientListOut(BaseModel):
    """A frozen list of a segment's members reachable on one channel."""

    id: UUID
    segment_id: UUID
    channel: str
    recipients: int = Field(description="Rows in the list.")
    created_at: datetime
    created_by: str


class RecipientPage(BaseModel):
    items: list[dict[str, Any]] = Field(description="`object_id` and `address` of each.")
    page: int
    per_page: int
    total: int
