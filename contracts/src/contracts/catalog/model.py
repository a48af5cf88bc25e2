"""What the catalog is made of."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.rules import Operator


class FieldType(StrEnum):
    """The RFC's field types."""

    SINGLE_LINE_TEXT = "single_line_text"
    TEXT_AREA = "text_area"
    URL = "url"
    DROPDOWN_SELECT = "dropdown_select"
    MULTIPLE_SELECT = "multiple_select"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    UPLOAD = "upload"
    SIGNATURE = "signature"
    GPS = "gps"


class FieldCategory(StrEnum):
    DEFAULT = "default"
    CUSTOM = "custom"
    CONSENT = "consent"
    LOYALTY = "loyalty"
    EVENT = "event"  # basic events: created/updated at/by


TEXT_TYPES = frozenset(
    {FieldType.SINGLE_LINE_TEXT, FieldType.TEXT_AREA, FieldType.URL, FieldType.DROPDOWN_SELECT}
)
PRESENCE_ONLY = frozenset({FieldType.UPLOAD, FieldType.SIGNATURE, FieldType.GPS})

_EMPTY = (Operator.IS_EMPTY, Operator.IS_NOT_EMPTY)
_TEXT_OPS = (
    Operator.EQUALS,
    Operator.NOT_EQUALS,
    Operator.CONTAINS,
    Operator.NOT_CONTAINS,
    Operator.STARTS_WITH,
    Operator.ENDS_WITH,
    Operator.IN_LIST,
    Operator.NOT_IN_LIST,
    *_EMPTY,
)
_NUMBER_OPS = (
    Operator.EQUALS,
    Operator.NOT_EQUALS,
    Operator.GT,
    Operator.GTE,
    Operator.LT,
    Operator.LTE,
    Operator.BETWEEN,
    Operator.IN_LIST,
    Operator.NOT_IN_LIST,
    *_EMPTY,
)
_DATE_OPS = (
    Operator.ON,
    Operator.BEFORE,
    Operator.AFTER,
    Operator.BETWEEN,
    Operator.IN_LAST_DAYS,
    Operator.MORE_THAN_DAYS_AGO,
    *_EMPTY,
)
OPERATORS_BY_TYPE: dict[FieldType, tuple[Operator, ...]] = {
    FieldType.SINGLE_LINE_TEXT: _TEXT_OPS,
    FieldType.TEXT_AREA: (Operator.CONTAINS, Operator.NOT_CONTAINS, *_EMPTY),
    FieldType.URL: _TEXT_OPS,
    FieldType.DROPDOWN_SELECT: (
        Operator.EQUALS,
        Operator.NOT_EQUALS,
        Operator.IN_LIST,
        Operator.NOT_IN_LIST,
        *_EMPTY,
    ),
    FieldType.MULTIPLE_SELECT: (
        Operator.CONTAINS_ANY,
        Operator.CONTAINS_ALL,
        Operator.CONTAINS_NONE,
        *_EMPTY,
    ),
    FieldType.NUMBER: _NUMBER_OPS,
    FieldType.DATE: _DATE_OPS,
    FieldType.BOOLEAN: (Operator.IS_TRUE, Operator.IS_FALSE, *_EMPTY),
    FieldType.UPLOAD: _EMPTY,
    FieldType.SIGNATURE: _EMPTY,
    FieldType.GPS: _EMPTY,
}

# Aggregated values (metrics, event and relation counts) compare like numbers.
COUNT_OPERATORS = (
    Operator.EQUALS,
    Operator.NOT_EQUALS,
    Operator.GT,
    Operator.GTE,
    Operator.LT,
    Operator.LTE,
    Operator.BETWEEN,
)

WAREHOUSE_TYPES: dict[FieldType, str] = {
    FieldType.SINGLE_LINE_TEXT: "STRING",
    FieldType.TEXT_AREA: "STRING",
    FieldType.URL: "STRING",
    FieldType.DROPDOWN_SELECT: "STRING",
    FieldType.MULTIPLE_SELECT: "STRING",
    FieldType.NUMBER: "FLOAT64",
    FieldType.DATE: "DATE",
    FieldType.BOOLEAN: "BOOL",
    FieldType.UPLOAD: "STRING",
    FieldType.SIGNATURE: "STRING",
    FieldType.GPS: "STRING",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class FieldDef(_Frozen):
    name: str = Field(description="Name used in rule sets.")
    column: str = Field(description="Warehouse column.")
    type: FieldType
    label: str
    category: FieldCategory = FieldCategory.DEFAULT
    options: tuple[str, ...] = Field((), description="Choices of a dropdown or multi-select.")
    warehouse_type: str | None = Field(None, description="Column type, if not the type's default.")
    references: str | None = Field(None, description="Object type this id column points to.")

    @property
    def column_type(self) -> str:
        return self.warehouse_type or WAREHOUSE_TYPES[self.type]

    @property
    def repeated(self) -> bool:
        return self.type is FieldType.MULTIPLE_SELECT


class Relation(_Frozen):
    """Rows of another object type tied to this one by equal columns.

    `child`: the target's `target_column` holds this object's id (a customer's deals).
    `parent`: this object's `object_column` holds the target's id (a customer's company).
    """

    name: str
    label: str
    target: str = Field(description="Target object type.")
    object_column: str
    target_column: str


class Aggregate(StrEnum):
    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    DISTINCT_COUNT = "distinct_count"
    DAYS_SINCE_LAST = "days_since_last"  # recency: build date minus the latest date


class MetricGroup(StrEnum):
    """The RFC's aggregate metric groups, RFM, and the generic per-relation aggregates."""

    COMMUNICATION = "communication"
    SERVICE = "service"
    SALES = "sales"
    MARKETING = "marketing"
    COMMERCE = "commerce"
    LOYALTY = "loyalty"
    RFM = "rfm"
    ACTIVITY = "activity"


class MetricFilter(_Frozen):
    """A fixed condition a curated metric applies to its rows (e.g. only won deals)."""

    field: str
    operator: Operator
    value: str | float | bool | None = None


class MetricDef(_Frozen):
    name: str
    label: str
    group: MetricGroup
    relation: str
    aggregate: Aggregate
    field: str | None = Field(None, description="Target field aggregated; none for count.")
    filters: tuple[MetricFilter, ...] = ()


class EventKind(StrEnum):
    WEB_CONVERSION = "web_conversion"
    ECOMMERCE = "ecommerce"
    SALES_CONVERSION = "sales_conversion"
    CUSTOM = "custom"


class EventSource(_Frozen):
    """Where an object's events of one kind live: a relation and its event-name field."""

    name: str
    label: str
    kind: EventKind
    relation: str
    name_field: str
    kind_filter: str | None = Field(None, description="Value of the target's `kind` field.")


class Channel(_Frozen):
    """A way to reach an object: an address field and the consent that allows its use."""

    name: str
    label: str
    address_field: str
    consent_field: str


class Band(_Frozen):
    """A labelled range of a number field's values, both ends included (None: open)."""

    label: str
    low: int | None = None
    high: int | None = None


class Distribution(_Frozen):
    """A chart of a segment's members by one field: its values as they are, or grouped
    into bands. Members without a value count as `unknown`."""

    name: str = Field(description="The name the performance tab shows it under.")
    field: str
    bands: tuple[Band, ...] = ()


class ObjectType(_Frozen):
    name: str
    label: str
    family: str = Field(description="analytics, crm or customer.")
    table: str
    id_column: str
    fields: tuple[FieldDef, ...]
    relations: tuple[Relation, ...] = ()
    metrics: tuple[MetricDef, ...] = ()
    events: tuple[EventSource, ...] = ()
    time_field: str | None = Field(
        None, description="DATE field windows apply to the object's own rows (its partition)."
    )
    display_columns: tuple[str, ...] = ()
    matched_columns: tuple[tuple[str, str], ...] = Field(
        (), description="(column, field) of the CRM frontend's matched-members table."
    )
    owner_field: str | None = Field(
        None, description="The user who added the object: a customer-scope `owned` filter."
    )
    channels: tuple[Channel, ...] = Field((), description="Reachability channels.")
    distributions: tuple[Distribution, ...] = Field(
        (), description="The performance tab's charts of a segment's members."
    )

    def field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)

    def relation(self, name: str) -> Relation | None:
        return next((r for r in self.relations if r.name == name), None)

    def metric(self, name: str) -> MetricDef | None:
        return next((m for m in self.metrics if m.name == name), None)

    def event(self, name: str) -> EventSource | None:
        return next((e for e in self.events if e.name == name), None)

    def with_fields(self, extra: tuple[FieldDef, ...]) -> ObjectType:
        return self.model_copy(update={"fields": self.fields + extra})
