"""A reference evaluator: the member set of a rule set, computed in plain Python.

Written from the rule language's documented semantics, not from the SQL, so that
the compiler and this evaluator can check each other:

- text compares ignore case; `not_*` operators match empty values;
- every comparison with an empty value is false (then negated operators flip it);
- an aggregate over no related rows is 0 for count, sum and distinct count, and
  empty for avg, min, max and recency;
- `previous_days N` is the N whole days before the build date; `in_last_days N`
  runs from N days before the build date through it;
- a group's own window restricts a time-keyed object's rows; for related rows the
  nearest window applies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from reference_behaviour import Behaviours, event_checks

from contracts.catalog import Aggregate, Catalog, FieldDef, FieldType, ObjectType
from contracts.catalog.model import PRESENCE_ONLY, TEXT_TYPES
from contracts.rules import (
    Behaviour,
    EventCondition,
    Group,
    LifetimeWindow,
    MetricCondition,
    Operator,
    PreviousDaysWindow,
    PropertyCondition,
    RangeWindow,
    RelationshipCondition,
    RuleSet,
    SegmentCondition,
)

Row = Mapping[str, Any]
NEGATED = {
    Operator.NOT_EQUALS,
    Operator.NOT_CONTAINS,
    Operator.NOT_IN_LIST,
    Operator.CONTAINS_NONE,
    Operator.IS_NOT_EMPTY,
}
POSITIVE = {
    Operator.NOT_EQUALS: Operator.EQUALS,
    Operator.NOT_CONTAINS: Operator.CONTAINS,
    Operator.NOT_IN_LIST: Operator.IN_LIST,
    Operator.CONTAINS_NONE: Operator.CONTAINS_ANY,
    Operator.IS_NOT_EMPTY: Operator.IS_EMPTY,
}


def _date(v: Any) -> date | None:
    return None if v is None else v if isinstance(v, date) else date.fromisoformat(v)


def _text(op: Operator, v: str | None, want: Any) -> bool:
    if op is Operator.IS_EMPTY:
        return v is None or v == ""
    if v is None:
        return False
    low = v.lower()
    if op is Operator.IN_LIST:
        return low in {str(w).lower() for w in want}
    w = str(want).lower()
    return {
        Operator.EQUALS: low == w,
        Operator.CONTAINS: w in low,
        Operator.STARTS_WITH: low.startswith(w),
        Operator.ENDS_WITH: low.endswith(w),
    }[op]


def _multi(op: Operator, v: list[str] | None, want: Any) -> bool:
    have = {x.lower() for x in (v or [])}
    if op is Operator.IS_EMPTY:
        return not have
    wanted = {str(w).lower() for w in want}
    if op is Operator.CONTAINS_ALL:
        return len(have & wanted) == len(wanted)
    return bool(have & wanted)  # contains_any


def ordered(op: Operator, v: Any, want: Any, build_date: date, *, dates: bool = False) -> bool:
    if op is Operator.IS_EMPTY:
        return v is None
    if v is None:
        return False
    if dates:
        v = _date(v)
        want = (
            tuple(_date(w) for w in want)
            if isinstance(want, list | tuple)
            else (
                want
                if isinstance(want, int)
                and op in (Operator.IN_LAST_DAYS, Operator.MORE_THAN_DAYS_AGO)
                else _date(want)
            )
        )
    if op is Operator.IN_LAST_DAYS:
        return build_date - timedelta(days=want) <= v <= build_date
    if op is Operator.MORE_THAN_DAYS_AGO:
        return v < build_date - timedelta(days=want)
    if op is Operator.BETWEEN:
        return want[0] <= v <= want[1]
    if op is Operator.IN_LIST:
        return v in want
    if op is Operator.DID_NOT_PERFORM:
        return v == 0
    return {
        Operator.EQUALS: v == want,
        Operator.ON: v == want,
        Operator.GT: v > want,
        Operator.AFTER: v > want,
        Operator.GTE: v >= want,
        Operator.LT: v < want,
        Operator.BEFORE: v < want,
        Operator.LTE: v <= want,
    }[op]


def prop(fd: FieldDef, op: Operator, want: Any, row: Row, build_date: date) -> bool:
    positive = POSITIVE.get(op, op)
    v = row.get(fd.column)
    if fd.type in TEXT_TYPES:
        hit = _text(positive, v, want)
    elif fd.type in PRESENCE_ONLY:
        hit = v is None or v == ""
    elif fd.type is FieldType.MULTIPLE_SELECT:
        hit = _multi(positive, v, want)
    elif fd.type is FieldType.BOOLEAN:
        hit = v is None if positive is Operator.IS_EMPTY else v is (positive is Operator.IS_TRUE)
    else:
        hit = ordered(positive, v, want, build_date, dates=fd.type is FieldType.DATE)
    return not hit if op in NEGATED else hit


def in_window(window: Any, v: Any, build_date: date) -> bool:
    if window is None or isinstance(window, LifetimeWindow):
        return True
    d = _date(v)
    if isinstance(window, PreviousDaysWindow):
        return d is not None and build_date - timedelta(
            days=window.days
        ) <= d <= build_date - timedelta(days=1)
    if isinstance(window, RangeWindow):
        return d is not None and window.start <= d <= window.end
    return True


class Evaluator:
    def __init__(
        self,
        catalog: Catalog,
        tables: Mapping[str, list[dict[str, Any]]],
        build_date: date,
        segments: Mapping[UUID, set[str]] | None = None,
    ) -> None:
        self.catalog = catalog
        self.tables = tables
        self.build_date = build_date
        self.segments = segments or {}
        self._index: dict[tuple[str, str], dict[Any, list[Row]]] = {}
        self.behaviours = Behaviours(self, prop, in_window)

    def members(self, rule_set: RuleSet) -> set[str]:
        obj = self.catalog.objects[rule_set.object]
        return {
            r[obj.id_column]
            for r in self.tables[obj.table]
            if self.group(obj, rule_set.root, r, None)
        }

    def node_counts(self, rule_set: RuleSet) -> dict[str, int]:
        """How many objects each node matches on its own, by JSON path."""
        obj = self.catalog.objects[rule_set.object]
        counts: dict[str, int] = defaultdict(int)
        for row in self.tables[obj.table]:
            self.group(obj, rule_set.root, row, None, "rules.root", counts)
        return dict(counts)

    def node_verdicts(self, rule_set: RuleSet, object_id: Any) -> dict[str, bool]:
        """Each node's verdict for one object, by JSON path."""
        obj = self.catalog.objects[rule_set.object]
        (row,) = [r for r in self.tables[obj.table] if r[obj.id_column] == object_id]
        counts: dict[str, int] = defaultdict(int)
        self.group(obj, rule_set.root, row, None, "rules.root", counts)
        return {path: bool(n) for path, n in counts.items()}

    def group(
        self,
        obj: ObjectType,
        g: Group,
        row: Row,
        inherited: Any,
        path: str = "",
        counts: dict[str, int] | None = None,
    ) -> bool:
        window = g.window or inherited
        results = []
        for i, rule in enumerate(g.rules):
            child = f"{path}.rules[{i}]"
            if isinstance(rule, Group):
                hit = self.group(obj, rule, row, window, child, counts)
            else:
                hit = self.condition(obj, rule, row, window)
                if counts is not None:
                    counts[child] += hit
            results.append(hit)
        result = all(results) if g.combinator == "and" else any(results)
        if g.window is not None and not isinstance(g.window, LifetimeWindow) and obj.time_field:
            result = (
                in_window(g.window, row.get(obj.field(obj.time_field).column), self.build_date)
                and result
            )
        result = not result if g.negate else result
        if counts is not None:
            counts[path] += result
        return result

    def condition(self, obj: ObjectType, c: Any, row: Row, window: Any) -> bool:
        if isinstance(c, PropertyCondition):
            fd = obj.field(c.field)
            return prop(fd, c.operator, c.value, row, self.build_date)
        if isinstance(c, SegmentCondition):
            inside = row[obj.id_column] in self.segments.get(c.segment_id, set())
            return inside if c.operator == "in" else not inside
        if isinstance(c, MetricCondition):
            metric = obj.metric(c.metric)
            fixed = [(f.field, f.operator, f.value) for f in metric.filters]
            return self.aggregate(
                obj,
                metric.relation,
                metric.aggregate,
                metric.field,
                fixed,
                c.window or window,
                c.operator,
                c.value,
                row,
            )
        if isinstance(c, EventCondition):
            source = obj.event(c.event)
            fixed = event_checks(source, c.name, c.filters)
            return self.aggregate(
                obj,
                source.relation,
                Aggregate.COUNT,
                None,
                fixed,
                c.window or window,
                c.operator,
                c.value,
                row,
            )
        if isinstance(c, Behaviour):
            return self.behaviours.holds(obj, c, row, window)
        if isinstance(c, RelationshipCondition):
            fixed = [(f.field, f.operator, f.value) for f in c.filters]
            return self.aggregate(
                obj,
                c.relation,
                Aggregate.COUNT,
                None,
                fixed,
                c.window or window,
                c.operator,
                c.value,
                row,
            )
        raise AssertionError(c)

    def _related(self, target: ObjectType, column: str) -> dict[Any, list[Row]]:
        key = (target.table, column)
        if key not in self._index:
            index: dict[Any, list[Row]] = defaultdict(list)
            for r in self.tables[target.table]:
                index[r.get(column)].append(r)
            self._index[key] = index
        return self._index[key]

    def aggregate(
        self,
        obj: ObjectType,
        relation_name: str,
        aggregate: Aggregate,
        field: str | None,
        filters: list[tuple[str, Operator, Any]],
        window: Any,
        op: Operator,
        want: Any,
        row: Row,
    ) -> bool:
        relation = obj.relation(relation_name)
        target = self.catalog.objects[relation.target]
        key = row.get(relation.object_column)
        rows = self._related(target, relation.target_column).get(key, []) if key is not None else []
        if window is not None and target.time_field:
            time_col = target.field(target.time_field).column
            rows = [r for r in rows if in_window(window, r.get(time_col), self.build_date)]
        for name, f_op, f_value in filters:
            fd = target.field(name)
            rows = [r for r in rows if prop(fd, f_op, f_value, r, self.build_date)]
        value = self._value(target, aggregate, field, rows)
        positive = POSITIVE.get(op, op)
        hit = ordered(positive, value, want, self.build_date)
        return not hit if op in NEGATED else hit

    def _value(
        self, target: ObjectType, aggregate: Aggregate, field: str | None, rows: list[Row]
    ) -> Any:
        if aggregate is Aggregate.COUNT:
            return len(rows)
        column = target.field(field).column
        values = [r[column] for r in rows if r.get(column) is not None]
        reducers: dict[Aggregate, Callable[[list[Any]], Any]] = {
            Aggregate.SUM: sum,
            Aggregate.AVG: lambda vs: sum(vs) / len(vs) if vs else None,
            Aggregate.MIN: lambda vs: min(vs) if vs else None,
            Aggregate.MAX: lambda vs: max(vs) if vs else None,
            Aggregate.DISTINCT_COUNT: lambda vs: len(set(vs)),
            Aggregate.DAYS_SINCE_LAST: lambda vs: (
                (self.build_date - max(_date(v) for v in vs)).days if vs else None
            ),
        }
        return reducers[aggregate](values)
