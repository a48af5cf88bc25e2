"""Request and response bodies of the segment routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.criteria import RULE_SET_EXAMPLE, CriteriaRuleSet
from contracts.messages import BuildCause, BuildState, BuildStatus
from contracts.rules import RULES_EXAMPLE, RuleSet
from contracts.splits import SplitIn
from segment_api.http.problems import FieldError
from segment_api.shared.cost import CostOut
from segment_api.shared.schemas import MAX_PAGE, ONE_SHAPE, Description, Name, SortKey, Text


class RulesInput(BaseModel):
    """The canonical `rules`, the CRM frontend's `rule_set` (groups of criteria rows), or
    the first document's `ruleGroups` (with `conjunction`); exactly one of them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=ONE_SHAPE)

    rules: RuleSet | None = None
    rule_set: CriteriaRuleSet | None = Field(
        None, description="The CRM frontend's shape; errors name its rows."
    )
    rule_groups: list[dict[str, Any]] | None = Field(
        None, alias="ruleGroups", description="The older shape; converted to `rules`."
    )
    conjunction: Literal["and", "or"] = Field("and", description="How ruleGroups combine.")


class SegmentCreate(RulesInput):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            **ONE_SHAPE,
            "examples": [
                {
                    "name": "Adults in Jakarta",
                    "description": "Customers over 30 living in Jakarta",
                    "rules": RULES_EXAMPLE,
                },
                {
                    "name": "Jakarta over 30, opted in",
                    "description": "As the CRM frontend sends it",
                    "rule_set": RULE_SET_EXAMPLE,
                },
            ],
        },
    )

    name: Name
    description: Description | None = None
    split: SplitIn | None = Field(
        None, description="Divide the members into buckets (variants and a holdout)."
    )


class BuildOut(BaseModel):
    """The segment's latest build, as the scheduler recorded it."""

    id: UUID
    state: BuildState = Field(
        description="requested, submitted, running, done, failed, skipped or canceled."
    )
    cause: BuildCause = Field(description="Why it was built: create, edit, refresh, cascade, ...")
    since: datetime = Field(description="When it entered this state.")
    reason: str | None = Field(
        description="Why it failed, was skipped or canceled; or what the reconciler did."
    )
    rules_version: int
    waiting: str | None = Field(
        None,
        description="Why it waits longer than expected, while it waits: the dependency it"
        " waits for, or how much longer than its recent builds its job has run.",
        examples=["waiting for 'High value'"],
    )


class BucketOut(BaseModel):
    name: str
    percent: float


class SplitOut(BaseModel):
    """A segment's buckets and their shares (each a deterministic part of the members)."""

    buckets: list[BucketOut]


class SegmentOut(BaseModel):
    id: UUID
    name: str
    description: str | None
    object: str
    rules: RuleSet | None
    rule_set: CriteriaRuleSet | None = Field(
        None, description="The same rules as the CRM frontend's criteria rows, when they fit."
    )
    rule_set_note: str | None = Field(
        None, description="Why `rule_set` is empty: what the criteria rows cannot show."
    )
    rules_version: int
    split: SplitOut | None = Field(None, description="Its buckets, if it is split.")
    is_custom: bool
    status: str = Field(description="active or archived")
    build_status: BuildStatus
    built_at: datetime | None = Field(description="When the member table was last built.")
    member_count: int | None = Field(description="Members in the last built table.")
    last_error: str | None
    build: BuildOut | None = Field(
        None, description="Its latest build; none until the scheduler has taken up the segment."
    )
    created_by: str
    created_at: datetime
    updated_at: datetime


class SegmentPage(BaseModel):
    items: list[SegmentOut]
    page: int
    per_page: int
    total: int


class SegmentPatch(BaseModel):
    """Only what is given changes; new rules rebuild the segment."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name | None = None
    description: Description | None = None
    rules: RuleSet | None = None
    rule_set: CriteriaRuleSet | None = None
    rule_groups: list[dict[str, Any]] | None = Field(None, alias="ruleGroups")
    conjunction: Literal["and", "or"] = "and"
    split: SplitIn | None = Field(None, description="New buckets; null removes the split.")

    def rules_given(self) -> bool:
        return any(x is not None for x in (self.rules, self.rule_set, self.rule_groups))


class ValidateRequest(RulesInput):
    pass


class DryRunOut(BaseModel):
    ok: bool
    error: str | None = None
    bytes_processed: int | None = None


class ValidationOut(BaseModel):
    valid: bool
    errors: list[FieldError] = Field(default_factory=list)
    rules: RuleSet | None = Field(None, description="The canonical form (legacy input converted).")
    cost: CostOut | None = Field(
        None, description="Bytes a build and a refresh would process, a month's, the threshold."
    )
    sql: str | None = Field(None, description="The build statement, for operators.")
    parameters: dict[str, Any] = Field(default_factory=dict)
    dry_run: DryRunOut | None = None


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=100)
    search: Text | None = Field(None, max_length=100, description="Part of the name, any case.")
    status: Literal["active", "archived"] | None = None
    object: str | None = Field(None, max_length=100)
    created_at_from: datetime | None = None
    created_at_to: datetime | None = None
    sort: SortKey = Field("-created_at", description="Field, `-` for descending.")


class RefreshRun(BaseModel):
    run_id: UUID = Field(description="Every build of the run carries it; pushes report progress.")
    segments: int = Field(description="Active segments the run will refresh.")


class EmbeddableOut(BaseModel):
    id: UUID
    name: str
    build_status: BuildStatus
    warning: str | None = Field(None, description="Still building, or its last build failed.")
