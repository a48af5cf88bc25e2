"""The typed tree's leaves that the behaviour conditions share with the rest: a checked
property condition, a resolved window, and the dated event rows a condition reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from contracts.catalog import FieldDef, ObjectType, Relation
from contracts.rules import LifetimeWindow, Operator, PreviousDaysWindow, RangeWindow

Window = LifetimeWindow | PreviousDaysWindow | RangeWindow


@dataclass(frozen=True)
class TypedProperty:
    field: FieldDef
    operator: Operator
    value: Any
    path: str


@dataclass(frozen=True)
class EventRows:
    """The rows of one event source that count (its kind, name and filters), each with
    its date and id: what orders them."""

    relation: Relation
    target: ObjectType
    filters: tuple[TypedProperty, ...]
    time_column: str
    id_column: str


@dataclass(frozen=True)
class TypedSequence:
    steps: tuple[EventRows, ...]
    gaps: tuple[int | None, ...]  # days allowed after the previous step, one per later step
    total_days: int | None
    absent: EventRows | None
    absent_days: int | None
    window: Window | None  # where the first step falls
    path: str


@dataclass(frozen=True)
class TypedOccurrence:
    rows: EventRows
    first: bool
    window: Window | None
    where: tuple[TypedProperty, ...]
    path: str


@dataclass(frozen=True)
class TypedStopped:
    rows: EventRows
    at_least: int
    base_days: int
    recent_days: int
    path: str


@dataclass(frozen=True)
class TypedRestarted:
    rows: EventRows
    gap_days: int
    window: Window | None
    path: str


@dataclass(frozen=True)
class TypedRegularly:
    rows: EventRows
    period: Literal["day", "week", "month"]
    at_least: int
    of_last: int
    path: str


TypedBehaviour = TypedSequence | TypedOccurrence | TypedStopped | TypedRestarted | TypedRegularly
