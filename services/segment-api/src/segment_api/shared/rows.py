"""Typed rows the repositories return: what the gateway reads, named and checked once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from contracts.rules import RuleSet


class SegmentRow(BaseModel):
    """A segment as `segment_view` shows it: the gateway's row and the scheduler's build
    projection of it."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    account_id: UUID
    name: str
    description: str | None
    object_type: str
    rules: dict[str, Any] | None
    rules_version: int
    is_custom: bool
    status: str
    build_status: str
    built_at: datetime | None
    member_count: int | None
    last_error: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    build_id: UUID | None
    split: dict[str, Any] | None = None
    build_state: str | None
    build_since: datetime | None
    build_reason: str | None
    build_cause: str | None
    build_rules_version: int | None
    build_waiting: str | None = None

    @property
    def rule_set(self) -> RuleSet | None:
        return RuleSet.model_validate(self.rules) if self.rules is not None else None

    @property
    def active(self) -> bool:
        return self.status == "active"
