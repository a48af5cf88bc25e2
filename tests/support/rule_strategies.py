"""Hypothesis strategies for random rule sets over any catalog object.

Values are drawn mostly from the data itself (so conditions match something),
across every condition kind, field type, operator, window and nesting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from contracts.catalog import OPERATORS_BY_TYPE, Catalog, FieldDef, FieldType, ObjectType
from contracts.catalog.model import COUNT_OPERATORS
from contracts.rules import Operator

COUNTS = st.sampled_from([0, 1, 2, 3, 5])
# Short windows most often: their edges fall among the many recent rows.
DAYS = st.one_of(st.integers(1, 16), st.integers(1, 1200))
AMOUNTS = st.sampled_from([0, 1, 2, 5, 10, 50, 100, 250, 400, 500, 1000, 2500])


class RuleSpace:
    def __init__(
        self,
        catalog: Catalog,
        tables: Mapping[str, list[dict[str, Any]]],
        build_date: date,
        segments: Mapping[str, Sequence[UUID]],
        *,
        behaviours: bool = True,
    ) -> None:
        """`behaviours`: draw the order-and-habit conditions too (the RFC's criteria form,
        which cannot say them, is tested without)."""
        self.catalog = catalog
        self.tables = tables
        self.build_date = build_date
        self.segments = segments
        self.behaviours = behaviours

    def samples(self, obj: ObjectType, fd: FieldDef) -> list[Any]:
        seen = [
            r[fd.column]
            for r in self.tables[obj.table][:200]
            if r.get(fd.column) not in (None, "", [])
        ]
        return seen or ["x"]

    def dates(self) -> st.SearchStrategy[str]:
        return st.one_of(st.integers(-3, 16), st.integers(-30, 3 * 365)).map(
            lambda d: (self.build_date - timedelta(days=d)).isoformat()
        )

    def windows(self, obj: ObjectType | None = None) -> st.SearchStrategy[Any]:
        del obj
        return st.one_of(
            st.none(),
            st.just({"kind": "lifetime"}),
            DAYS.map(lambda d: {"kind": "previous_days", "days": d}),
            st.tuples(self.dates(), self.dates()).map(
                lambda p: {"kind": "range", "start": min(p), "end": max(p)}
            ),
        )

    def _scalar(self, obj: ObjectType, fd: FieldDef, op: Operator) -> st.SearchStrategy[Any]:
        samples = self.samples(obj, fd)
        if fd.type is FieldType.NUMBER:
            return st.one_of(st.sampled_from(samples), st.integers(-5, 600))
        if fd.type is FieldType.DATE:
            return st.one_of(st.sampled_from(samples), self.dates())
        if fd.type is FieldType.MULTIPLE_SELECT:
            return st.sampled_from(fd.options)
        base = st.sampled_from(samples).map(str)
        if op in (Operator.CONTAINS, Operator.NOT_CONTAINS, Operator.STARTS_WITH):
            return base.flatmap(
                lambda s: st.integers(1, max(1, min(4, len(s)))).map(
                    lambda n, s=s: s[:n] if op is not Operator.CONTAINS else s[1 : n + 1] or s
                )
            )
        if op is Operator.ENDS_WITH:
            return base.map(lambda s: s[-3:])
        return st.one_of(base, base.map(str.upper), st.sampled_from(["Jakarta", "zzz"]))

    def value(self, obj: ObjectType, fd: FieldDef, op: Operator) -> st.SearchStrategy[Any]:
        if op in (Operator.IS_EMPTY, Operator.IS_NOT_EMPTY, Operator.IS_TRUE, Operator.IS_FALSE):
            return st.none()
        if op in (Operator.IN_LAST_DAYS, Operator.MORE_THAN_DAYS_AGO):
            return DAYS
        scalar = self._scalar(obj, fd, op)
        if op in (
            Operator.IN_LIST,
            Operator.NOT_IN_LIST,
            Operator.CONTAINS_ANY,
            Operator.CONTAINS_ALL,
            Operator.CONTAINS_NONE,
        ):
            return st.lists(scalar, min_size=1, max_size=3)
        if op is Operator.BETWEEN:
            return st.tuples(scalar, scalar).map(sorted)
        return scalar

    def prop(self, obj: ObjectType) -> st.SearchStrategy[dict[str, Any]]:
        fields = [f for f in obj.fields if not f.references]

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            fd = draw(st.sampled_from(fields))
            op = draw(st.sampled_from(OPERATORS_BY_TYPE[fd.type]))
            return {
                "type": "property",
                "field": fd.name,
                "operator": op.value,
                "value": draw(self.value(obj, fd, op)),
            }

        return build()

    def compare(
        self, values: st.SearchStrategy[int], extra: Sequence[Operator]
    ) -> st.SearchStrategy[tuple[str, Any]]:
        @st.composite
        def build(draw: st.DrawFn) -> tuple[str, Any]:
            op = draw(st.sampled_from([*COUNT_OPERATORS, *extra]))
            if op in (Operator.DID_NOT_PERFORM, Operator.IS_EMPTY, Operator.IS_NOT_EMPTY):
                return op.value, None
            if op is Operator.BETWEEN:
                return op.value, sorted(draw(st.tuples(values, values)))
            return op.value, draw(values)

        return build()

    def metric(self, obj: ObjectType) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            metric = draw(st.sampled_from(obj.metrics))
            op, value = draw(
                self.compare(
                    COUNTS if metric.aggregate.value in ("count", "distinct_count") else AMOUNTS,
                    [Operator.IS_EMPTY, Operator.IS_NOT_EMPTY],
                )
            )
            target = self.catalog.objects[obj.relation(metric.relation).target]
            return {
                "type": "metric",
                "metric": metric.name,
                "operator": op,
                "value": value,
                "window": draw(self.windows()) if target.time_field else None,
            }

        return build()

    def filters(self, target: ObjectType) -> st.SearchStrategy[list[dict[str, Any]]]:
        return st.lists(self.prop(target), max_size=1)

    def event(self, obj: ObjectType) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            source = draw(st.sampled_from(obj.events))
            target = self.catalog.objects[obj.relation(source.relation).target]
            names = target.field(source.name_field).options
            op, value = draw(self.compare(COUNTS, [Operator.DID_NOT_PERFORM]))
            return {
                "type": "event",
                "event": source.name,
                "name": draw(st.one_of(st.none(), st.sampled_from(names))),
                "filters": draw(self.filters(target)),
                "operator": op,
                "value": value,
                "window": draw(self.windows()),
            }

        return build()

    def relationship(self, obj: ObjectType) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            relation = draw(st.sampled_from(obj.relations))
            target = self.catalog.objects[relation.target]
            op, value = draw(self.compare(COUNTS, []))
            window = draw(self.windows()) if target.time_field else None
            return {
                "type": "relationship",
                "relation": relation.name,
                "filters": draw(self.filters(target)),
                "operator": op,
                "value": value,
                "window": window,
            }

        return build()

    def events(self, obj: ObjectType, relation: str | None = None) -> st.SearchStrategy[dict]:
        """Which event rows: a source (of `relation`, if given), a name or any, filters."""
        sources = [s for s in obj.events if relation in (None, s.relation)]

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            source = draw(st.sampled_from(sources))
            target = self.catalog.objects[obj.relation(source.relation).target]
            names = target.field(source.name_field).options
            return {
                "event": source.name,
                # Any name most often: the demo rows are few per object.
                "name": draw(st.one_of(st.none(), st.none(), st.sampled_from(names))),
                "filters": draw(st.lists(self.prop(target), max_size=1)),
            }

        return build()

    def behaviour(self, obj: ObjectType) -> st.SearchStrategy[dict[str, Any]]:
        dated = [
            s
            for s in obj.events
            if self.catalog.objects[obj.relation(s.relation).target].time_field
        ]
        small = st.one_of(st.none(), st.integers(1, 30), st.integers(1, 800))

        @st.composite
        def sequence(draw: st.DrawFn) -> dict[str, Any]:
            relation = draw(st.sampled_from(dated)).relation
            n = draw(st.integers(2, 3))
            steps = [
                {**draw(self.events(obj, relation)), "within_days": None if i == 0 else draw(small)}
                for i in range(n)
            ]
            gaps = [s["within_days"] for s in steps if s["within_days"]]
            total = draw(st.one_of(st.none(), st.integers(max(gaps, default=1), 900)))
            then_not = draw(
                st.one_of(
                    st.none(),
                    st.builds(
                        lambda e, days: {**e, "within_days": days},
                        self.events(obj, relation),
                        st.integers(1, 60),
                    ),
                )
            )
            return {
                "type": "sequence",
                "steps": steps,
                "total_within_days": total,
                "then_not": then_not,
                "window": draw(self.windows()),
            }

        def one(kind: str, **more: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
            source = st.sampled_from(dated).flatmap(lambda s: self.events(obj, s.relation))
            return st.builds(
                lambda e, extra: {"type": kind, **e, **extra}, source, st.fixed_dictionaries(more)
            )

        return st.one_of(
            sequence(),
            one(
                "occurrence",
                which=st.sampled_from(["first", "last"]),
                window=self.windows(),
                where=st.just([]),
            ),
            one(
                "stopped",
                at_least=st.integers(1, 3),
                base_days=st.integers(1, 900),
                recent_days=st.integers(1, 400),
            ),
            one("restarted", gap_days=st.integers(1, 400), window=self.windows()),
            st.sampled_from([("day", 366), ("week", 104), ("month", 60)]).flatmap(
                lambda p: st.integers(1, p[1]).flatmap(
                    lambda n: one(
                        "regularly",
                        period=st.just(p[0]),
                        of_last=st.just(n),
                        at_least=st.integers(1, min(n, 4)),
                    )
                )
            ),
        )

    def condition(self, obj: ObjectType) -> st.SearchStrategy[dict[str, Any]]:
        kinds = [self.prop(obj), self.prop(obj)]
        if obj.metrics:
            kinds.append(self.metric(obj))
        if obj.events:
            kinds.append(self.event(obj))
        if self.behaviours and any(
            self.catalog.objects[obj.relation(s.relation).target].time_field for s in obj.events
        ):
            kinds.append(self.behaviour(obj))
        if obj.relations:
            kinds.append(self.relationship(obj))
        if self.segments.get(obj.name):
            kinds.append(
                st.builds(
                    lambda sid, op: {"type": "segment", "segment_id": str(sid), "operator": op},
                    st.sampled_from(self.segments[obj.name]),
                    st.sampled_from(["in", "not_in"]),
                )
            )
        return st.one_of(*kinds)

    def group(self, obj: ObjectType, depth: int) -> st.SearchStrategy[dict[str, Any]]:
        child = (
            self.condition(obj)
            if depth >= 3
            else st.one_of(
                self.condition(obj),
                self.condition(obj),
                st.deferred(lambda: self.group(obj, depth + 1)),
            )
        )
        window = self.windows() if obj.time_field else st.one_of(st.none(), self.windows())
        return st.builds(
            lambda rules, comb, neg, win: {
                "type": "group",
                "combinator": comb,
                "negate": neg,
                "window": win,
                "rules": rules,
            },
            st.lists(child, min_size=1, max_size=3),
            st.sampled_from(["and", "or"]),
            st.booleans(),
            window,
        )

    def rule_set(self, obj: ObjectType) -> st.SearchStrategy[dict[str, Any]]:
        return self.group(obj, 1).map(lambda root: {"object": obj.name, "root": root})
