"""Request and response bodies of the segment routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from contracts.criteria import RULE_SET_EXAMPLE, CriteriaRuleSet
from contracts.language import COUNT_KIND_OPERATORS, METRIC_OPERATORS
from contracts.messages import BuildCause, BuildState, BuildStatus
from contracts.rules import RULES_EXAMPLE, RuleSet
from segment_api.http.problems import FieldError

NAME_MAX = 60  # the frontend RFC's limit
MAX_PAGE = 100_000  # keeps page * per_page a sane offset
DESCRIPTION_MAX = 250


def _no_nul(value: str) -> str:
    """Postgres stores no NUL character: refused here, with the field's name, not there."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Name = Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
Description = Annotated[Text, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_MAX)]


ONE_SHAPE: JsonDict = {
    "oneOf": [
        {"required": ["rules"]},
        {"required": ["rule_set"]},
        {"required": ["ruleGroups"]},
    ]
}


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


class PusherAuth(BaseModel):
    auth: str = Field(description="`key:signature` for the private channel subscription.")


class PusherClient(BaseModel):
    """What pusher-js needs besides the channel: the app key and the server's address."""

    key: str
    host: str
    port: int
    tls: bool


class RealtimeChannel(BaseModel):
    """Where the caller hears of the segments they may see."""

    channel: str = Field(
        description="The Pusher private channel to subscribe to: the account's for a user who "
        "sees the whole account, their own owner channel for one whose view is `owned`.",
        examples=["private-account-9f0c2a61c0de4c1a9d1b2c3d4e5f6a7b"],
    )
    events: list[str] = Field(description="Event names pushed on it.")
    websocket_path: str = Field(
        description="The notifier's native websocket, filtered the same way "
        "(pass the token as `access_token`)."
    )
    pusher: PusherClient | None = Field(
        None, description="Where a Pusher client connects (absent when not configured)."
    )


class SegmentPatch(BaseModel):
    """Only what is given changes; new rules rebuild the segment."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name | None = None
    description: Description | None = None
    rules: RuleSet | None = None
    rule_set: CriteriaRuleSet | None = None
    rule_groups: list[dict[str, Any]] | None = Field(None, alias="ruleGroups")
    conjunction: Literal["and", "or"] = "and"

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
    sql: str | None = Field(None, description="The build statement, for operators.")
    parameters: dict[str, Any] = Field(default_factory=dict)
    dry_run: DryRunOut | None = None


SortKey = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "name",
    "-name",
    "member_count",
    "-member_count",
]


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


class MembersQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=100)
    as_of_build: UUID | None = Field(
        None, description="The members this past (done) build left, rebuilt from the log."
    )


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


class RefreshRun(BaseModel):
    run_id: UUID = Field(description="Every build of the run carries it; pushes report progress.")
    segments: int = Field(description="Active segments the run will refresh.")


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


class ChannelReach(BaseModel):
    reachable: int
    percentage: float


class Reachability(BaseModel):
    """Members reachable per channel: the RFC's `<channel>_pct` and the counts."""

    whatsapp_pct: float = Field(0.0, description="Percent of members reachable on WhatsApp.")
    email_pct: float = Field(0.0, description="Percent of members reachable by email.")
    whatsapp: ChannelReach | None = None
    email: ChannelReach | None = None


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


class MembersPage(BaseModel):
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int


class FieldOut(BaseModel):
    name: str
    label: str
    type: str
    category: str
    operators: list[str]
    options: list[str] = Field(default_factory=list)
    discovered: bool = Field(False, description="Found in the warehouse, not yet registered.")


class MetricOut(BaseModel):
    name: str
    label: str
    group: str
    relation: str
    operators: list[str] = Field(
        default_factory=lambda: [o.value for o in METRIC_OPERATORS],
        description="Operators a metric condition takes (the same for every metric).",
    )


class EventOut(BaseModel):
    name: str
    label: str
    kind: str
    names: list[str] = Field(description="Event names one may pick.")
    operators: list[str] = Field(
        default_factory=lambda: [o.value for o in COUNT_KIND_OPERATORS],
        description="Operators on the count of events.",
    )


class RelationOut(BaseModel):
    name: str
    label: str
    target: str = Field(description="The related object: its fields are the filters'.")
    operators: list[str] = Field(
        default_factory=lambda: [o.value for o in COUNT_KIND_OPERATORS],
        description="Operators on the count of related objects.",
    )


class PaletteOut(BaseModel):
    object: str
    label: str
    fields: list[FieldOut]
    metrics: list[MetricOut]
    events: list[EventOut]
    relations: list[RelationOut]
    channels: list[str]


class ValueCount(BaseModel):
    value: Any
    count: int


class FieldValuesOut(BaseModel):
    field: str
    popular: list[ValueCount]
    sample: list[Any]
    unique_count: int


class EmbeddableOut(BaseModel):
    id: UUID
    name: str
    build_status: BuildStatus
    warning: str | None = Field(None, description="Still building, or its last build failed.")


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


class ReadyOut(BaseModel):
    status: Literal["ok", "unavailable"]
    postgres: str = Field(description="`up`, or `down: <why>`.")
    kafka: str = Field(description="`up`, or `down: <why>`.")
    redis: str = Field(description="Reported, not required (answers are uncached without it).")


class HealthOut(BaseModel):
    status: str
    cache: str = Field(description="up, or down (answering uncached)")


class CriteriaFieldOut(BaseModel):
    """A field as the RFC's condition palette shows it: what a criteria row sends back."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str = Field(description="The row's `field`.")
    name: str = Field(description="Its label.")
    field_type: str = Field(alias="fieldType")
    field_category: str = Field(alias="fieldCategory")
    conditions: list[str] = Field(description="What the row's `condition` may be.")
    options: list[str] = Field(default_factory=list)


class AssociationItemOut(BaseModel):
    id: str = Field(description="The row's `field` (a metric).")
    name: str
    field_type: str = Field(description="The value input to show.")


class AssociationGroupOut(BaseModel):
    """One of the builder's association or metric groups (Deals, Conversations, RFM…)."""

    label: str
    field_category: Literal["association", "metric"] = Field(
        alias="fieldCategory", serialization_alias="fieldCategory"
    )
    conditions: list[str]
    items: list[AssociationItemOut]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class CustomerFieldsOut(BaseModel):
    """The CRM frontend's condition palette for customers."""

    fields: list[CriteriaFieldOut]
    associations: list[AssociationGroupOut]
    metrics: list[AssociationGroupOut]


Channel = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]


class ReachabilityOut(Reachability):
    """Send Campaign's audience size by channel: the same query the recipient list uses."""

    segment_id: UUID
    total_matched: int


class RecipientsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel = Field(description="`whatsapp` or `email`.", examples=["whatsapp"])


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
