"""The object catalog: object types as data (tables, ids, typed fields, relations,
metrics, event sources). The compiler emits identifiers only from here."""

from contracts.catalog.model import (
    OPERATORS_BY_TYPE,
    WAREHOUSE_TYPES,
    Aggregate,
    Band,
    Channel,
    Distribution,
    EventKind,
    EventSource,
    FieldCategory,
    FieldDef,
    FieldType,
    MetricDef,
    MetricGroup,
    ObjectType,
    Relation,
)
from contracts.catalog.objects import CUSTOMER, OBJECT_TYPES, Catalog, base_catalog

__all__ = [
    "CUSTOMER",
    "OBJECT_TYPES",
    "OPERATORS_BY_TYPE",
    "WAREHOUSE_TYPES",
    "Aggregate",
    "Band",
    "Catalog",
    "Channel",
    "Distribution",
    "EventKind",
    "EventSource",
    "FieldCategory",
    "FieldDef",
    "FieldType",
    "MetricDef",
    "MetricGroup",
    "ObjectType",
    "Relation",
    "base_catalog",
]
