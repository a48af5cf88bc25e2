"""Validation pass: checks a rule set against an account's catalog and plan limits.

It reports every error at once, each with its JSON path, or returns a typed tree
the SQL pass can trust. In that tree fields are resolved to catalog entries and
values are coerced to their field's type. Metric, event and relationship
conditions are all lowered to one node: an aggregate over a relation's rows.
Windows are resolved to the one that applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from compiler.errors import RuleError, RuleSetInvalidError
from compiler.typed_events import BEHAVIOURS, source_filters, source_of
from compiler.typed_nodes import TypedBehaviour, TypedProperty, Window
from contracts.catalog import (
    OPERATORS_BY_TYPE,
    Aggregate,
    Catalog,
    FieldDef,
    FieldType,
    ObjectType,
    Relation,
    base_catalog,
)
from contracts.catalog.model import TEXT_TYPES, MetricFilter
from contracts.language import (
    COUNT_KIND_OPERATORS,
    DAY_COUNT_OPERATORS,
    LIST_OPERATORS,
    MAX_DAY_COUNT,
    MAX_LIST_VALUES,
    MAX_TEXT_VALUE,
    METRIC_OPERATORS,
    MIN_DAY_COUNT,
    NO_VALUE,
)
from contracts.limits import UNLIMITED, PlanLimits
from contracts.rules import (
    Combinator,
    EventCondition,
    Group,
    LifetimeWindow,
    MetricCondition,
    Operator,
    PropertyCondition,
    RelationshipCondition,
    RuleSet,
    SegmentCondition,
)
from contracts.splits import Split

TypedValue = Any

_NO_VALUE = NO_VALUE
_LIST_OPS = LIST_OPERATORS
_DAY_COUNT_OPS = DAY_COUNT_OPERATORS


@dataclass(frozen=True)
class TypedAggregate:
    """An aggregate over a relation's rows, compared as a number."""

    relation: Relation
    target: ObjectType
    aggregate: Aggregate
    field: FieldDef | None
    filters: tuple[TypedProperty, ...]
    window: Window | None
    operator: Operator
    value: TypedValue
    path: str


@dataclass(frozen=True)
class TypedMembership:
    segment_id: UUID
    member: bool
    path: str
    split: Split | None = None  # with `bucket`: members of that bucket only
    bucket: str | None = None


@dataclass(frozen=True)
class TypedGroup:
    combinator: Combinator
    negate: bool
    window: Window | None  # the group's own window, restricting a time-keyed object's rows
    rules: tuple[TypedNode, ...]
    path: str


TypedNode = TypedProperty | TypedAggregate | TypedMembership | TypedBehaviour | TypedGroup


@dataclass(frozen=True)
class TypedRuleSet:
    object: ObjectType
    root: TypedGroup


class _BadValueError(Exception):
    pass


def _scalar(field: FieldDef, raw: object) -> str | int | float | date:
    if field.type in TEXT_TYPES or field.type is FieldType.MULTIPLE_SELECT:
        if not isinstance(raw, str) or raw == "":
            raise _BadValueError("expected a non-empty string")
        if len(raw) > MAX_TEXT_VALUE:
            raise _BadValueError(f"at most {MAX_TEXT_VALUE} characters")
        return raw
    if field.type is FieldType.NUMBER:
        return _number(raw)
    if field.type is FieldType.DATE:
        if not isinstance(raw, str):
            raise _BadValueError("expected a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise _BadValueError("expected a date as YYYY-MM-DD") from exc
    raise _BadValueError(f"{field.type} fields take no value")


def _number(raw: object) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _BadValueError("expected a number")
    return raw


def _pair(items: object, convert: Any) -> tuple[Any, Any]:
    if not isinstance(items, list) or len(items) != 2:
        raise _BadValueError("expected [low, high]")
    low, high = convert(items[0]), convert(items[1])
    if low > high:
        raise _BadValueError("low must not be greater than high")
    return (low, high)


def _property_value(field: FieldDef, op: Operator, raw: object) -> TypedValue:
    if op in _NO_VALUE:
        if raw is not None:
            raise _BadValueError(f"{op} takes no value")
        return None
    if op in _DAY_COUNT_OPS:
        if (
            isinstance(raw, bool)
            or not isinstance(raw, int)
            or not MIN_DAY_COUNT <= raw <= MAX_DAY_COUNT
        ):
            raise _BadValueError(
                f"expected a whole number of days between {MIN_DAY_COUNT} and {MAX_DAY_COUNT}"
            )
        return raw
    if op in _LIST_OPS:
        if not isinstance(raw, list) or not raw:
            raise _BadValueError("expected a non-empty list")
        if len(raw) > MAX_LIST_VALUES:
            raise _BadValueError(f"at most {MAX_LIST_VALUES} values")
        return tuple(_scalar(field, v) for v in raw)
    if op is Operator.BETWEEN:
        return _pair(raw, lambda v: _scalar(field, v))
    return _scalar(field, raw)


def _count_value(op: Operator, raw: object) -> TypedValue:
    if op in (Operator.DID_NOT_PERFORM, Operator.IS_EMPTY, Operator.IS_NOT_EMPTY):
        if raw is not None:
            raise _BadValueError(f"{op} takes no value")
        return None
    if op is Operator.BETWEEN:
        return _pair(raw, _number)
    return _number(raw)


class _Checker:
    def __init__(
        self,
        catalog: Catalog,
        obj: ObjectType,
        limits: PlanLimits,
        splits: Mapping[UUID, Split] | None = None,
    ) -> None:
        self.catalog = catalog
        self.obj = obj
        self.limits = limits
        self.splits = splits or {}
        self.errors: list[RuleError] = []
        self.groups = 0

    def fail(self, path: str, code: str, message: str) -> None:
        self.errors.append(RuleError(path, code, message))

    def group(self, group: Group, path: str, depth: int, inherited: Window | None) -> TypedGroup:
        if depth > 1:
            self.groups += 1
        if depth > self.limits.max_depth:
            self.fail(path, "limit_exceeded", f"groups nest at most {self.limits.max_depth} deep")
        conditions = sum(1 for r in group.rules if not isinstance(r, Group))
        if conditions > self.limits.max_conditions_per_group:
            self.fail(
                f"{path}.rules",
                "limit_exceeded",
                f"at most {self.limits.max_conditions_per_group} conditions per group",
            )
        # A group window applies to the aggregates inside and, where the object has a
        # date of its own (sessions, events), to the object's rows too.
        window = group.window or inherited
        rules: list[TypedNode] = []
        for i, rule in enumerate(group.rules):
            typed = self.rule(rule, f"{path}.rules[{i}]", depth, window)
            if typed is not None:
                rules.append(typed)
        return TypedGroup(group.combinator, group.negate, group.window, tuple(rules), path)

    def rule(self, rule: object, path: str, depth: int, window: Window | None) -> TypedNode | None:
        if isinstance(rule, Group):
            return self.group(rule, path, depth + 1, window)
        if isinstance(rule, PropertyCondition):
            return self.prop(self.obj, rule, path)
        if isinstance(rule, SegmentCondition):
            return self.membership(rule, path)
        behaviour = BEHAVIOURS.get(type(rule))
        if behaviour is not None:
            return behaviour(self, rule, path, window)
        aggregate = _AGGREGATES.get(type(rule))
        if aggregate is None:
            raise AssertionError(rule)
        # A condition's own window wins over its group's.
        own: Window | None = getattr(rule, "window", None)
        typed: TypedAggregate | None = aggregate(
            self, rule, path, own or window, own=own is not None
        )
        return typed

    def membership(self, rule: SegmentCondition, path: str) -> TypedMembership | None:
        member = rule.operator == "in"
        if rule.bucket is None:
            return TypedMembership(rule.segment_id, member, path)
        split = self.splits.get(rule.segment_id)
        if split is None:
            self.fail(f"{path}.bucket", "no_split", "the segment is not split into buckets")
            return None
        if split.bucket(rule.bucket) is None:
            names = ", ".join(b.name for b in split.buckets)
            self.fail(f"{path}.bucket", "unknown_bucket", f"the segment's buckets are {names}")
            return None
        return TypedMembership(rule.segment_id, member, path, split, rule.bucket)

    def prop(self, obj: ObjectType, cond: PropertyCondition, path: str) -> TypedProperty | None:
        field = obj.field(cond.field)
        if field is None or field.references:
            self.fail(
                f"{path}.field",
                "unknown_field",
                f"'{cond.field[:80]}' is not a field of {obj.name}",
            )
            return None
        if cond.operator not in OPERATORS_BY_TYPE[field.type]:
            self.fail(
                f"{path}.operator",
                "operator_not_allowed",
                f"{cond.operator} does not apply to {field.type} field '{field.name}'",
            )
            return None
        try:
            value = _property_value(field, cond.operator, cond.value)
        except _BadValueError as exc:
            self.fail(f"{path}.value", "invalid_value", str(exc))
            return None
        return TypedProperty(field, cond.operator, value, path)

    def _window_fits(self, target: ObjectType, path: str) -> None:
        if target.time_field is None:
            self.fail(
                path,
                "window_not_applicable",
                f"{target.name} rows have no date a window could apply to",
            )

    def relation(self, name: str, path: str) -> tuple[Relation, ObjectType] | None:
        relation = self.obj.relation(name)
        target = self.catalog.get(relation.target) if relation else None
        if relation is None or target is None:
            self.fail(
                path, "unknown_relation", f"'{name[:80]}' is not a relation of {self.obj.name}"
            )
            return None
        return relation, target

    def compare(self, op: Operator, raw: object, path: str, *, events: bool) -> TypedValue:
        allowed = COUNT_KIND_OPERATORS if events else METRIC_OPERATORS
        if op not in allowed:
            self.fail(
                f"{path}.operator",
                "operator_not_allowed",
                f"{op} does not apply to a {'count' if events else 'metric'}",
            )
            return _INVALID
        try:
            return _count_value(op, raw)
        except _BadValueError as exc:
            self.fail(f"{path}.value", "invalid_value", str(exc))
            return _INVALID

    def filters(
        self, target: ObjectType, filters: list[PropertyCondition], path: str
    ) -> tuple[TypedProperty, ...]:
        out = []
        for i, cond in enumerate(filters):
            typed = self.prop(target, cond, f"{path}.filters[{i}]")
            if typed is not None:
                out.append(typed)
        return tuple(out)

    def fixed(
        self, target: ObjectType, filters: tuple[MetricFilter, ...], path: str
    ) -> tuple[TypedProperty, ...]:
        out = []
        for fixed in filters:
            typed = self.prop(
                target,
                PropertyCondition(field=fixed.field, operator=fixed.operator, value=fixed.value),
                path,
            )
            if typed is not None:
                out.append(typed)
        return tuple(out)

    def effective(
        self, target: ObjectType, window: Window | None, own: bool, path: str
    ) -> Window | None:
        if window is None or isinstance(window, LifetimeWindow):
            return None
        if target.time_field is None:
            if own:
                self._window_fits(target, f"{path}.window")
            return None  # an inherited group window does not concern dateless rows
        return window


_INVALID = object()


def _metric(
    c: _Checker, cond: MetricCondition, path: str, window: Window | None, *, own: bool
) -> TypedAggregate | None:
    metric = c.obj.metric(cond.metric)
    if metric is None:
        c.fail(
            f"{path}.metric",
            "unknown_metric",
            f"'{cond.metric[:80]}' is not a metric of {c.obj.name}",
        )
        return None
    found = c.relation(metric.relation, f"{path}.metric")
    value = c.compare(cond.operator, cond.value, path, events=False)
    if found is None or value is _INVALID:
        return None
    relation, target = found
    field = target.field(metric.field) if metric.field else None
    return TypedAggregate(
        relation,
        target,
        metric.aggregate,
        field,
        c.fixed(target, metric.filters, f"{path}.metric"),
        c.effective(target, window, own, path),
        cond.operator,
        value,
        path,
    )


def _event(
    c: _Checker, cond: EventCondition, path: str, window: Window | None, *, own: bool
) -> TypedAggregate | None:
    source = source_of(c, cond.event, path)
    if source is None:
        return None
    found = c.relation(source.relation, f"{path}.event")
    value = c.compare(cond.operator, cond.value, path, events=True)
    if found is None or value is _INVALID:
        return None
    relation, target = found
    fixed = source_filters(source, cond.name)
    typed_fixed = tuple(t for f in fixed if (t := c.prop(target, f, f"{path}.name")))
    filters = typed_fixed + c.filters(target, cond.filters, path)
    return TypedAggregate(
        relation,
        target,
        Aggregate.COUNT,
        None,
        filters,
        c.effective(target, window, own, path),
        cond.operator,
        value,
        path,
    )


def _relationship(
    c: _Checker, cond: RelationshipCondition, path: str, window: Window | None, *, own: bool
) -> TypedAggregate | None:
    found = c.relation(cond.relation, f"{path}.relation")
    value = c.compare(cond.operator, cond.value, path, events=True)
    if found is None or value is _INVALID:
        return None
    relation, target = found
    return TypedAggregate(
        relation,
        target,
        Aggregate.COUNT,
        None,
        c.filters(target, cond.filters, path),
        c.effective(target, window, own, path),
        cond.operator,
        value,
        path,
    )


# The conditions that count related rows, each checked by its function (a dispatch on the
# condition's type): a new kind of condition is a function and a line here.
_AGGREGATES: dict[type, Callable[..., TypedAggregate | None]] = {
    MetricCondition: _metric,
    EventCondition: _event,
    RelationshipCondition: _relationship,
}


def check(
    rule_set: RuleSet,
    catalog: Catalog | None = None,
    limits: PlanLimits = UNLIMITED,
    *,
    base_path: str = "rules",
    splits: Mapping[UUID, Split] | None = None,
) -> list[RuleError]:
    """Every error of the rule set at once; empty when it compiles."""
    try:
        type_rule_set(rule_set, catalog, limits, base_path=base_path, splits=splits)
    except RuleSetInvalidError as exc:
        return exc.errors
    return []


def type_rule_set(
    rule_set: RuleSet,
    catalog: Catalog | None = None,
    limits: PlanLimits = UNLIMITED,
    *,
    base_path: str = "rules",
    splits: Mapping[UUID, Split] | None = None,
) -> TypedRuleSet:
    """`splits`: those of the segments the rules embed by bucket."""
    catalog = catalog or base_catalog()
    obj = catalog.get(rule_set.object)
    if obj is None:
        raise RuleSetInvalidError(
            [
                RuleError(
                    f"{base_path}.object",
                    "unknown_object",
                    f"'{rule_set.object[:80]}' is not an object type",
                )
            ]
        )
    checker = _Checker(catalog, obj, limits, splits)
    root = checker.group(rule_set.root, f"{base_path}.root", 1, None)
    if checker.groups > limits.max_groups:
        checker.fail(f"{base_path}.root", "limit_exceeded", f"at most {limits.max_groups} groups")
    if checker.errors:
        raise RuleSetInvalidError(checker.errors)
    return TypedRuleSet(obj, root)
