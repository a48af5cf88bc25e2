"""Validation of the behaviour conditions (sequence, occurrence, stopped, restarted,
regularly): each reads one event source's dated rows; the checks here resolve those
rows and the days, periods and steps against the catalog and the plan's limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from compiler.errors import RuleError
from compiler.typed_nodes import (
    EventRows,
    TypedBehaviour,
    TypedOccurrence,
    TypedProperty,
    TypedRegularly,
    TypedRestarted,
    TypedSequence,
    TypedStopped,
    Window,
)
from contracts.catalog import Catalog, EventSource, ObjectType, Relation
from contracts.language import MAX_PERIODS
from contracts.limits import PlanLimits
from contracts.rules import (
    LifetimeWindow,
    OccurrenceCondition,
    Operator,
    PropertyCondition,
    RegularlyCondition,
    RestartedCondition,
    SequenceCondition,
    StoppedCondition,
)


class Checks(Protocol):
    """What of the type pass's checker these checks use."""

    obj: ObjectType
    catalog: Catalog
    limits: PlanLimits
    errors: list[RuleError]

    def fail(self, path: str, code: str, message: str) -> None: ...

    def prop(self, obj: ObjectType, cond: PropertyCondition, path: str) -> TypedProperty | None: ...

    def relation(self, name: str, path: str) -> tuple[Relation, ObjectType] | None: ...


def _props(
    c: Checks, target: ObjectType, conds: list[PropertyCondition], path: str
) -> tuple[TypedProperty, ...]:
    return tuple(t for i, cond in enumerate(conds) if (t := c.prop(target, cond, f"{path}[{i}]")))


def source_of(c: Checks, event: str, path: str) -> EventSource | None:
    """The object's event source of that name, or None after saying there is none."""
    source = c.obj.event(event)
    if source is None:
        c.fail(
            f"{path}.event",
            "unknown_event",
            f"'{event[:80]}' is not an event source of {c.obj.name}",
        )
    return source


def source_filters(source: EventSource, name: str | None) -> list[PropertyCondition]:
    """The conditions that make a relation's rows one source's events, of one name."""
    fixed: list[PropertyCondition] = []
    if source.kind_filter:
        fixed.append(
            PropertyCondition(field="kind", operator=Operator.EQUALS, value=source.kind_filter)
        )
    if name is not None:
        fixed.append(
            PropertyCondition(field=source.name_field, operator=Operator.EQUALS, value=name)
        )
    return fixed


def event_rows(c: Checks, sel: Any, path: str) -> EventRows | None:
    """The rows of `sel.event` (one of the object's sources) that `sel.name` and
    `sel.filters` select; None after reporting why they cannot be read."""
    source = source_of(c, sel.event, path)
    if source is None:
        return None
    found = c.relation(source.relation, f"{path}.event")
    if found is None:
        return None
    relation, target = found
    if target.time_field is None:
        c.fail(f"{path}.event", "window_not_applicable", f"{target.name} rows have no date")
        return None
    before = len(c.errors)
    fixed = source_filters(source, sel.name)
    filters = tuple(t for f in fixed if (t := c.prop(target, f, f"{path}.name")))
    filters += _props(c, target, sel.filters, f"{path}.filters")
    if len(c.errors) > before:
        return None
    time_field = target.field(target.time_field)
    assert time_field is not None
    return EventRows(relation, target, filters, time_field.column, target.id_column)


def _window(window: Window | None) -> Window | None:
    return None if isinstance(window, LifetimeWindow) else window


def _sequence(
    c: Checks, cond: SequenceCondition, path: str, inherited: Window | None
) -> TypedSequence | None:
    before = len(c.errors)
    if len(cond.steps) > c.limits.max_sequence_steps:
        c.fail(
            f"{path}.steps",
            "limit_exceeded",
            f"at most {c.limits.max_sequence_steps} steps in a sequence",
        )
    if cond.steps[0].within_days is not None:
        c.fail(
            f"{path}.steps[0].within_days",
            "invalid_value",
            "the first step has no previous step to follow within days",
        )
    total = cond.total_within_days
    for i, step in enumerate(cond.steps[1:], start=1):
        if total is not None and step.within_days is not None and step.within_days > total:
            c.fail(
                f"{path}.steps[{i}].within_days",
                "gap_exceeds_window",
                f"a gap of {step.within_days} days cannot fit in the sequence's {total} days",
            )
    steps = [event_rows(c, step, f"{path}.steps[{i}]") for i, step in enumerate(cond.steps)]
    absent = event_rows(c, cond.then_not, f"{path}.then_not") if cond.then_not else None
    first = steps[0]
    for i, rows in enumerate([*steps[1:], absent], start=1):
        if first is not None and rows is not None and rows.relation != first.relation:
            where = f"{path}.steps[{i}]" if i < len(steps) else f"{path}.then_not"
            c.fail(
                f"{where}.event",
                "mixed_event_sources",
                f"every step reads the first step's rows ({first.target.name}); "
                f"this one reads {rows.target.name}",
            )
    if len(c.errors) > before or first is None:
        return None
    return TypedSequence(
        tuple(s for s in steps if s is not None),
        tuple(s.within_days for s in cond.steps[1:]),
        total,
        absent,
        cond.then_not.within_days if cond.then_not else None,
        _window(cond.window or inherited),
        path,
    )


def _occurrence(
    c: Checks, cond: OccurrenceCondition, path: str, inherited: Window | None
) -> TypedOccurrence | None:
    rows = event_rows(c, cond, path)
    if rows is None:
        return None
    before = len(c.errors)
    where = _props(c, rows.target, cond.where, f"{path}.where")
    if len(c.errors) > before:
        return None
    return TypedOccurrence(
        rows, cond.which == "first", _window(cond.window or inherited), where, path
    )


def _stopped(
    c: Checks, cond: StoppedCondition, path: str, _inherited: Window | None
) -> TypedStopped | None:
    # Its periods count back from the build date: a group's window does not apply.
    rows = event_rows(c, cond, path)
    if rows is None:
        return None
    return TypedStopped(rows, cond.at_least, cond.base_days, cond.recent_days, path)


def _restarted(
    c: Checks, cond: RestartedCondition, path: str, inherited: Window | None
) -> TypedRestarted | None:
    rows = event_rows(c, cond, path)
    if rows is None:
        return None
    return TypedRestarted(rows, cond.gap_days, _window(cond.window or inherited), path)


def _regularly(
    c: Checks, cond: RegularlyCondition, path: str, _inherited: Window | None
) -> TypedRegularly | None:
    before = len(c.errors)
    cap = MAX_PERIODS[cond.period]
    if cond.of_last > cap:
        c.fail(f"{path}.of_last", "limit_exceeded", f"at most the last {cap} {cond.period}s")
    if cond.at_least > cond.of_last:
        c.fail(
            f"{path}.at_least",
            "invalid_value",
            f"at least {cond.at_least} of the last {cond.of_last} cannot be met",
        )
    rows = event_rows(c, cond, path)
    if rows is None or len(c.errors) > before:
        return None
    return TypedRegularly(rows, cond.period, cond.at_least, cond.of_last, path)


# A dispatch on the condition's type, as for the aggregates in `typed`.
BEHAVIOURS: dict[type, Callable[[Any, Any, str, Window | None], TypedBehaviour | None]] = {
    SequenceCondition: _sequence,
    OccurrenceCondition: _occurrence,
    StoppedCondition: _stopped,
    RestartedCondition: _restarted,
    RegularlyCondition: _regularly,
}
