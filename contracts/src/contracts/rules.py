"""The canonical rule language, version 1.

A segment is a tree: a root group whose children are conditions or groups.
Every group combines its children with AND or OR, may be negated (an "exclude"
group) and may carry a window. Conditions are a tagged union on `type`:

- `property`: one field of the object against a value;
- `metric`: a catalog metric (count, sum, avg, min, max, distinct count, recency)
  over the object's related rows, compared as a number;
- `event`: how many times the object performed events of a source (web
  conversion, ecommerce, sales conversion, custom), optionally one event name,
  with property filters; `did_not_perform` is exactly "zero times";
- `relationship`: how many related objects match filters;
- `segment`: membership of another segment (embedding);
- `sequence`: events in order (two to five steps), with the days allowed between
  steps and for the whole, and an optional "and then did not" step;
- `occurrence`: the first (or last) event of a kind fell in a window, and had
  properties;
- `stopped`: did an event at least N times in a base period, and not since;
- `restarted`: did an event again after a gap of at least G days;
- `regularly`: did an event in at least K of the last N days, weeks or months.

The last five read the object's dated event rows; same-day events are taken in the
order of their event id (`docs/rule-language.md` states each exactly).

Windows: `lifetime`, `previous_days` (the N whole days before the build date in
the account's time zone) or a fixed `range` of dates. A condition's own window
wins over its group's, and an inner group's over an outer one's.

Values stay JSON scalars here; what a value must be depends on the field's type,
which only the catalog knows, so the compiler's validator checks it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

JsonScalar = StrictBool | StrictInt | StrictFloat | StrictStr
RuleValue = JsonScalar | list[JsonScalar] | None


class Combinator(StrEnum):
    AND = "and"
    OR = "or"


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    IN_LIST = "in_list"
    NOT_IN_LIST = "not_in_list"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    BEFORE = "before"
    AFTER = "after"
    ON = "on"
    IN_LAST_DAYS = "in_last_days"
    MORE_THAN_DAYS_AGO = "more_than_days_ago"
    IS_TRUE = "is_true"
    IS_FALSE = "is_false"
    CONTAINS_ANY = "contains_any"
    CONTAINS_ALL = "contains_all"
    CONTAINS_NONE = "contains_none"
    DID_NOT_PERFORM = "did_not_perform"


class _Node(BaseModel):
    # Infinity and NaN have no JSON form: refused at the edge, not by the database.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class LifetimeWindow(_Node):
    kind: Literal["lifetime"] = "lifetime"


class PreviousDaysWindow(_Node):
    kind: Literal["previous_days"] = "previous_days"
    days: int = Field(ge=1, le=3650, description="Whole days before the build date.")


class RangeWindow(_Node):
    kind: Literal["range"] = "range"
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start > self.end:
            raise ValueError("start must not be after end")
        return self


Window = Annotated[LifetimeWindow | PreviousDaysWindow | RangeWindow, Field(discriminator="kind")]


class PropertyCondition(_Node):
    """Compare one field of the segment's object (or of related rows) with a value."""

    type: Literal["property"] = "property"
    field: str = Field(
        min_length=1, max_length=200, description="Field name from the catalog.", examples=["age"]
    )
    operator: Operator = Field(examples=["gt"])
    value: RuleValue = Field(
        None, description="Scalar, list (in_list, between, contains_*) or null.", examples=[30]
    )


class MetricCondition(_Node):
    """A catalog metric over the object's related rows, compared as a number."""

    type: Literal["metric"] = "metric"
    metric: str = Field(min_length=1, max_length=200, examples=["total_spent"])
    operator: Operator = Field(examples=["gte"])
    value: RuleValue = Field(None, examples=[100])
    window: Window | None = None


class _Events(_Node):
    """Which event rows count: a source of the object, one name or any, and filters."""

    event: str = Field(
        min_length=1,
        max_length=200,
        description="Event source of the object.",
        examples=["ecommerce"],
    )
    name: str | None = Field(
        None, max_length=200, description="One event name, or any.", examples=["purchase"]
    )
    filters: list[PropertyCondition] = Field(
        default_factory=list, max_length=20, description="Conditions on the events' fields."
    )


class EventCondition(_Events):
    """Performed events of a source N times (or not at all) in a window."""

    type: Literal["event"] = "event"
    operator: Operator = Field(Operator.GTE, examples=["gte"])
    value: RuleValue = Field(
        None, description="A count, [low, high], or null for did_not_perform.", examples=[2]
    )
    window: Window | None = None


class RelationshipCondition(_Node):
    """How many related objects (deals, tickets, sessions, ...) match the filters."""

    type: Literal["relationship"] = "relationship"
    relation: str = Field(min_length=1, max_length=200, examples=["deals"])
    filters: list[PropertyCondition] = Field(default_factory=list, max_length=20)
    operator: Operator = Field(Operator.GTE, examples=["gte"])
    value: RuleValue = Field(None, description="A count or [low, high].", examples=[1])
    window: Window | None = None


class SegmentCondition(_Node):
    """Membership of another segment of the same object type (embedding)."""

    type: Literal["segment"] = "segment"
    segment_id: UUID
    operator: Literal["in", "not_in"] = "in"
    bucket: str | None = Field(
        None,
        max_length=40,
        description="One bucket of the segment's split (its holdout, say), or all members.",
        examples=["holdout"],
        # Left out when absent: rules stored before buckets read back unchanged.
        exclude_if=lambda v: v is None,
    )


Days = Annotated[int, Field(ge=1, le=3650)]


class SequenceStep(_Events):
    """One step of a sequence: an event after the previous step's."""

    within_days: Days | None = Field(
        None, description="At most this many days after the previous step (not on the first)."
    )


class AbsentStep(_Events):
    """The "and then did not" step: no such event after the last step, for a while."""

    within_days: Days = Field(
        description="Days after the last step's day in which the event must not happen; "
        "the sequence counts once they have all passed.",
        examples=[2],
    )


class SequenceCondition(_Node):
    """Performed the steps in order (any occurrences that complete the order count)."""

    type: Literal["sequence"] = "sequence"
    steps: list[SequenceStep] = Field(
        min_length=2, max_length=20, description="In order; the plan caps how many."
    )
    total_within_days: Days | None = Field(
        None, description="The last step at most this many days after the first."
    )
    then_not: AbsentStep | None = Field(None, description="And then did not, within days.")
    window: Window | None = Field(None, description="Where the first step must fall.")


class OccurrenceCondition(_Events):
    """The first (or last) such event fell in the window and matched `where`."""

    type: Literal["occurrence"] = "occurrence"
    which: Literal["first", "last"] = Field(examples=["first"])
    window: Window | None = Field(None, description="Where that one event must fall.")
    where: list[PropertyCondition] = Field(
        default_factory=list, max_length=20, description="Conditions on that one event."
    )


class StoppedCondition(_Events):
    """Did it at least `at_least` times in the base period, and not in the recent one."""

    type: Literal["stopped"] = "stopped"
    at_least: int = Field(1, ge=1, le=100000, description="Times in the base period.")
    base_days: Days = Field(description="The days before the recent period.", examples=[90])
    recent_days: Days = Field(
        description="The last days (through the build date) without it.", examples=[60]
    )


class RestartedCondition(_Events):
    """Did it again after a gap of at least `gap_days` (the return in the window)."""

    type: Literal["restarted"] = "restarted"
    gap_days: Days = Field(description="Days at least between two such events.", examples=[90])
    window: Window | None = Field(None, description="Where the return must fall.")


class RegularlyCondition(_Events):
    """Did it in at least `at_least` of the last `of_last` whole periods."""

    type: Literal["regularly"] = "regularly"
    period: Literal["day", "week", "month"] = Field(examples=["week"])
    at_least: int = Field(ge=1, le=3650, examples=[3])
    of_last: int = Field(ge=1, le=3650, description="Whole periods before the current one.")


Behaviour = (
    SequenceCondition
    | OccurrenceCondition
    | StoppedCondition
    | RestartedCondition
    | RegularlyCondition
)
Condition = (
    PropertyCondition
    | MetricCondition
    | EventCondition
    | RelationshipCondition
    | SegmentCondition
    | Behaviour
)


class Group(_Node):
    """Children combined with AND/OR; `negate` turns the group into an exclusion."""

    type: Literal["group"] = "group"
    combinator: Combinator = Combinator.AND
    negate: bool = Field(False, description="Exclude the objects the group matches.")
    window: Window | None = Field(None, description="Applies to the conditions inside.")
    rules: list[Rule] = Field(min_length=1, description="Conditions and nested groups.")


Rule = Annotated[
    PropertyCondition
    | MetricCondition
    | EventCondition
    | RelationshipCondition
    | SegmentCondition
    | SequenceCondition
    | OccurrenceCondition
    | StoppedCondition
    | RestartedCondition
    | RegularlyCondition
    | Group,
    Field(discriminator="type"),
]


RULES_EXAMPLE: dict[str, Any] = {
    "version": 1,
    "object": "customer",
    "root": {
        "type": "group",
        "combinator": "and",
        "rules": [
            {"type": "property", "field": "age", "operator": "gt", "value": 30},
            {"type": "property", "field": "city", "operator": "equals", "value": "Jakarta"},
        ],
    },
}


def _nul_path(value: object, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: list[tuple[str, object]] = [(f"{path}.{k}".lstrip("."), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    else:
        return None
    for inner_path, inner in items:
        found = _nul_path(inner, inner_path)
        if found is not None:
            return found
    return None


class RuleSet(_Node):
    """A segment definition: which object it selects and the rule tree over it."""

    version: Literal[1] = Field(1, description="Rule language version.")
    object: str = Field(description="Object type from the catalog.", examples=["customer"])
    root: Group

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"examples": [RULES_EXAMPLE]},
    )

    @model_validator(mode="after")
    def _no_nul_characters(self) -> RuleSet:
        """A NUL character cannot be stored (Postgres text and JSON refuse it)."""
        where = _nul_path(self.model_dump(mode="json"), "")
        if where is not None:
            raise ValueError(f"{where or 'a value'}: text must not contain NUL characters")
        return self

    def embedded_segment_ids(self) -> list[UUID]:
        """Segments this one embeds, in tree order, each once."""
        found: list[UUID] = []

        def walk(group: Group) -> None:
            for rule in group.rules:
                if isinstance(rule, Group):
                    walk(rule)
                elif isinstance(rule, SegmentCondition) and rule.segment_id not in found:
                    found.append(rule.segment_id)

        walk(self.root)
        return found


Group.model_rebuild()
