"""The reference evaluator's behaviour conditions (sequence, occurrence, stopped,
restarted, regularly), written from `docs/rule-language.md`, not from the SQL:

- the rows that count are the source's (its kind, the name, the filters) with a date;
- events are ordered by date, then by event id: a step comes strictly after the last;
- `within_days` bounds a step's day against the previous step's day; the whole
  sequence's limit the last step's day against the first's;
- "and then did not": no such event after the last step up to G days after its day,
  and those G days have passed before the build date;
- stopped: at least N in the B days before the recent M days, none in the M days
  before the build date nor on it;
- restarted: a row whose previous row is at least G days earlier, the row in the window;
- regularly: rows in at least K distinct whole periods of the N before the build
  date's (weeks run Monday to Sunday, months are calendar months).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from contracts.catalog import ObjectType
from contracts.rules import (
    OccurrenceCondition,
    Operator,
    RegularlyCondition,
    RestartedCondition,
    SequenceCondition,
    StoppedCondition,
)

Row = dict[str, Any]


def event_checks(source: Any, name: str | None, filters: list[Any]) -> list[tuple[str, Any, Any]]:
    """(field, operator, value) a row of the source must pass: its kind, the name, filters."""
    checks: list[tuple[str, Any, Any]] = []
    if source.kind_filter:
        checks.append(("kind", Operator.EQUALS, source.kind_filter))
    if name is not None:
        checks.append((source.name_field, Operator.EQUALS, name))
    return checks + [(f.field, f.operator, f.value) for f in filters]


def _date(v: Any) -> date:
    return v if isinstance(v, date) else date.fromisoformat(v)


class Behaviours:
    """Bound to an Evaluator (`ev`): its catalog, tables, build date and `prop`."""

    def __init__(self, ev: Any, prop: Callable[..., bool], in_window: Callable[..., bool]):
        self.ev = ev
        self.prop = prop
        self.in_window = in_window

    def rows(self, obj: ObjectType, sel: Any, row: Row) -> tuple[ObjectType, list[Row]]:
        """The object's rows of `sel`, in event order, each with `_d` (its date)."""
        source = obj.event(sel.event)
        relation = obj.relation(source.relation)
        target = self.ev.catalog.objects[relation.target]
        key = row.get(relation.object_column)
        found = self.ev._related(target, relation.target_column).get(key, []) if key else []
        checks = event_checks(source, sel.name, sel.filters)
        time_col = target.field(target.time_field).column
        out = []
        for r in found:
            if r.get(time_col) is None:
                continue
            if all(self.prop(target.field(n), op, v, r, self.ev.build_date) for n, op, v in checks):
                out.append({**r, "_d": _date(r[time_col])})
        out.sort(key=lambda r: (r["_d"], r[target.id_column]))
        return target, out

    def holds(self, obj: ObjectType, c: Any, row: Row, window: Any) -> bool:
        kinds: dict[type, Callable[..., bool]] = {
            SequenceCondition: self.sequence,
            OccurrenceCondition: self.occurrence,
            StoppedCondition: self.stopped,
            RestartedCondition: self.restarted,
            RegularlyCondition: self.regularly,
        }
        return kinds[type(c)](obj, c, row, window)

    def sequence(self, obj: ObjectType, c: SequenceCondition, row: Row, window: Any) -> bool:
        target, _ = self.rows(obj, c.steps[0], row)
        steps = [self.rows(obj, s, row)[1] for s in c.steps]

        def order(r: Row) -> tuple[date, Any]:
            return (r["_d"], r[target.id_column])

        window = c.window or window
        bd = self.ev.build_date
        absent = self.rows(obj, c.then_not, row)[1] if c.then_not else []

        def lasts(i: int, prev: Row, start: date) -> list[Row]:
            """Every row that can end a chain through step i after `prev`."""
            if i == len(steps):
                return [prev]
            gap = c.steps[i].within_days
            out = []
            for r in steps[i]:
                if order(r) <= order(prev):
                    continue
                if gap is not None and (r["_d"] - prev["_d"]).days > gap:
                    continue
                if c.total_within_days is not None and (r["_d"] - start).days > c.total_within_days:
                    continue
                out += lasts(i + 1, r, r["_d"] if i == 0 else start)
            return out

        ends: list[Row] = []
        for first in steps[0]:
            if self.in_window(window, first["_d"], bd):
                ends += lasts(1, first, first["_d"])
        if c.then_not is None:
            return bool(ends)
        days = c.then_not.within_days
        for end in ends:
            until = end["_d"] + timedelta(days=days)
            if until >= bd:
                continue
            if not any(order(end) < order(x) and x["_d"] <= until for x in absent):
                return True
        return False

    def occurrence(self, obj: ObjectType, c: OccurrenceCondition, row: Row, window: Any) -> bool:
        target, rows = self.rows(obj, c, row)
        if not rows:
            return False
        one = rows[0] if c.which == "first" else rows[-1]
        if not self.in_window(c.window or window, one["_d"], self.ev.build_date):
            return False
        return all(
            self.prop(target.field(w.field), w.operator, w.value, one, self.ev.build_date)
            for w in c.where
        )

    def stopped(self, obj: ObjectType, c: StoppedCondition, row: Row, _window: Any) -> bool:
        _, rows = self.rows(obj, c, row)
        bd = self.ev.build_date
        recent = bd - timedelta(days=c.recent_days)
        base = recent - timedelta(days=c.base_days)
        before = sum(1 for r in rows if base <= r["_d"] < recent)
        since = sum(1 for r in rows if recent <= r["_d"] <= bd)
        return before >= c.at_least and since == 0

    def restarted(self, obj: ObjectType, c: RestartedCondition, row: Row, window: Any) -> bool:
        _, rows = self.rows(obj, c, row)
        window = c.window or window
        return any(
            (cur["_d"] - prev["_d"]).days >= c.gap_days
            and self.in_window(window, cur["_d"], self.ev.build_date)
            for prev, cur in itertools.pairwise(rows)
        )

    def regularly(self, obj: ObjectType, c: RegularlyCondition, row: Row, _window: Any) -> bool:
        _, rows = self.rows(obj, c, row)
        now = period(c.period, self.ev.build_date)
        seen = {p for r in rows if now - c.of_last <= (p := period(c.period, r["_d"])) < now}
        return len(seen) >= c.at_least


def period(kind: str, d: date) -> int:
    if kind == "month":
        return d.year * 12 + d.month
    days = d.toordinal() - 1  # day 0 is Monday, 0001-01-01
    return days // 7 if kind == "week" else days
