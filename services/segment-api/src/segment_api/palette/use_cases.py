"""The field palette of an object type and the values of one field, both cached."""

from __future__ import annotations

from uuid import UUID

from compiler.sql import Target
from contracts.catalog import (
    OPERATORS_BY_TYPE,
    EventSource,
    FieldCategory,
    FieldDef,
    FieldType,
    MetricGroup,
    ObjectType,
)
from contracts.language import BEHAVIOUR_KINDS, MAX_PERIODS, METRIC_OPERATORS
from contracts.warehouse import dataset_id
from segment_api.http.problems import ProblemError, not_found, warehouse_problem
from segment_api.palette.schemas import (
    AssociationGroupOut,
    AssociationItemOut,
    CriteriaFieldOut,
    CustomerFieldsOut,
    EventOut,
    FieldOut,
    FieldValuesOut,
    MetricOut,
    PaletteOut,
    RelationOut,
    ValueCount,
)
from segment_api.shared import member_queries
from segment_api.shared.cache import Cache
from segment_api.shared.policy import require_scope
from segment_api.shared.ports import QueryTimeoutError, Warehouse, WarehouseError
from segment_runtime.auth import Principal, Scope
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Pool

# Warehouse column types of unregistered custom columns, as rule-language field types.
_DISCOVERED: dict[tuple[str, str], FieldType] = {
    ("STRING", "NULLABLE"): FieldType.SINGLE_LINE_TEXT,
    ("STRING", "REPEATED"): FieldType.MULTIPLE_SELECT,
    ("FLOAT", "NULLABLE"): FieldType.NUMBER,
    ("FLOAT64", "NULLABLE"): FieldType.NUMBER,
    ("INTEGER", "NULLABLE"): FieldType.NUMBER,
    ("INT64", "NULLABLE"): FieldType.NUMBER,
    ("DATE", "NULLABLE"): FieldType.DATE,
    ("BOOLEAN", "NULLABLE"): FieldType.BOOLEAN,
    ("BOOL", "NULLABLE"): FieldType.BOOLEAN,
}
CUSTOM_PREFIX = "cf_"


def _field(fd: FieldDef, *, discovered: bool = False) -> FieldOut:
    return FieldOut(
        name=fd.name,
        label=fd.label,
        type=fd.type.value,
        category=fd.category.value,
        options=list(fd.options),
        operators=[o.value for o in OPERATORS_BY_TYPE[fd.type]],
        discovered=discovered,
    )


class Palette:
    def __init__(self, pool: Pool, warehouse: Warehouse, cache: Cache, *, budget_s: float) -> None:
        self._pool = pool
        self._warehouse = warehouse
        self._cache = cache
        self._budget = budget_s

    async def criteria_fields(self, principal: Principal, object_name: str) -> CustomerFieldsOut:
        palette = await self.fields(principal, object_name)
        return criteria_palette(palette, await self._object(principal.account_id, object_name))

    async def _object(self, account_id: UUID, name: str) -> ObjectType:
        async with self._pool.acquire() as conn:
            catalog = await account_catalog(conn, account_id)
        obj = catalog.get(name)
        if obj is None:
            raise not_found("object type")
        return obj

    def _target(self, account_id: UUID) -> Target:
        return Target(self._warehouse.project(), dataset_id(account_id))

    async def fields(self, principal: Principal, object_name: str) -> PaletteOut:
        require_scope(principal, Scope.VIEW)
        return await self._cache.through(
            principal.account_id,
            "palette",
            object_name,
            model=PaletteOut,
            compute=lambda: self._fields(principal, object_name),
        )

    async def _fields(self, principal: Principal, object_name: str) -> PaletteOut:
        obj = await self._object(principal.account_id, object_name)
        known = {f.column for f in obj.fields}
        columns = await self._warehouse.columns(self._target(principal.account_id).name(obj.table))
        discovered = [
            FieldDef(
                name=name,
                column=name,
                type=_DISCOVERED[(kind, mode)],
                label=name.removeprefix(CUSTOM_PREFIX).replace("_", " ").capitalize(),
                category=FieldCategory.CUSTOM,
            )
            for name, kind, mode in columns
            if name.startswith(CUSTOM_PREFIX) and name not in known and (kind, mode) in _DISCOVERED
        ]
        return PaletteOut(
            object=obj.name,
            label=obj.label,
            fields=[_field(f) for f in obj.fields if not f.references]
            + [_field(f, discovered=True) for f in discovered],
            metrics=[
                MetricOut(name=m.name, label=m.label, group=m.group.value, relation=m.relation)
                for m in obj.metrics
            ],
            events=[await self._event(principal.account_id, obj, e) for e in obj.events],
            relations=[
                RelationOut(name=r.name, label=r.label, target=r.target) for r in obj.relations
            ],
            channels=[c.name for c in obj.channels],
            periods=dict(MAX_PERIODS),
        )

    async def _event(self, account_id: UUID, obj: ObjectType, source: EventSource) -> EventOut:
        """An event source with the event names one may pick (its name field's options)."""
        relation = obj.relation(source.relation)
        target = await self._object(account_id, relation.target) if relation else None
        name_field = target.field(source.name_field) if target else None
        dated = target is not None and target.time_field is not None
        return EventOut(
            name=source.name,
            label=source.label,
            kind=source.kind.value,
            names=list(name_field.options) if name_field else [],
            relation=source.relation,
            fields=[_field(f) for f in target.fields if not f.references] if target else [],
            behaviours=list(BEHAVIOUR_KINDS) if dated else [],
        )

    async def values(
        self, principal: Principal, object_name: str, field_name: str
    ) -> FieldValuesOut:
        require_scope(principal, Scope.VIEW)
        return await self._cache.through(
            principal.account_id,
            "values",
            [object_name, field_name],
            model=FieldValuesOut,
            compute=lambda: self._values(principal, object_name, field_name),
        )

    async def _values(
        self, principal: Principal, object_name: str, field_name: str
    ) -> FieldValuesOut:
        obj = await self._object(principal.account_id, object_name)
        fd = obj.field(field_name)
        if fd is None or fd.references:
            raise not_found("field")
        popular, sample, distinct = member_queries.field_values(
            obj, fd, self._target(principal.account_id)
        )
        try:
            top = await self._warehouse.query(popular.sql, {}, timeout_s=self._budget)
            some = await self._warehouse.query(sample.sql, {}, timeout_s=self._budget)
            (unique,) = await self._warehouse.query(distinct.sql, {}, timeout_s=self._budget)
        except WarehouseError as exc:
            raise warehouse_problem(exc) from exc
        except QueryTimeoutError as exc:
            raise ProblemError(504, "preview_timeout", "The warehouse took too long") from exc
        return FieldValuesOut(
            field=fd.name,
            popular=[ValueCount(value=r["value"], count=r["count"]) for r in top],
            sample=[r["value"] for r in some],
            unique_count=int(unique["unique_count"]),
        )


BOOLEAN_CONDITIONS = ["is", "is_not", "is_empty", "is_not_empty"]


def criteria_palette(palette: PaletteOut, catalog_obj: ObjectType) -> CustomerFieldsOut:
    """The RFC's palette: fields with the conditions a criteria row may use, and the
    association and metric groups (aggregates per relation, and the curated metrics)."""
    fields = [
        CriteriaFieldOut(
            id=f.name,
            name=f.label,
            field_type=f.type,
            field_category=f.category,
            conditions=BOOLEAN_CONDITIONS if f.type == FieldType.BOOLEAN.value else f.operators,
            options=f.options,
        )
        for f in palette.fields
    ]
    labels = {r.name: r.label for r in catalog_obj.relations}
    associations: dict[str, list[AssociationItemOut]] = {}
    metrics: dict[str, list[AssociationItemOut]] = {}
    for m in palette.metrics:
        item = AssociationItemOut(id=m.name, name=m.label, field_type=FieldType.NUMBER.value)
        if m.group == MetricGroup.ACTIVITY.value:
            associations.setdefault(labels.get(m.relation, m.relation), []).append(item)
        else:
            metrics.setdefault(
                m.group.upper() if m.group == "rfm" else m.group.capitalize(), []
            ).append(item)
    conditions = [o.value for o in METRIC_OPERATORS]
    return CustomerFieldsOut(
        fields=fields,
        associations=[
            AssociationGroupOut(
                label=k, field_category="association", conditions=conditions, items=v
            )
            for k, v in associations.items()
        ],
        metrics=[
            AssociationGroupOut(label=k, field_category="metric", conditions=conditions, items=v)
            for k, v in metrics.items()
        ],
    )
