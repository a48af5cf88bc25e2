"""The object catalog: object types as data, not code.

For each object type: its warehouse table, id column and typed fields. The
compiler takes every identifier it emits from here, never from user input.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.rules import Operator


class FieldType(StrEnum):
    SINGLE_LINE_TEXT = "single_line_text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"


class FieldCategory(StrEnum):
    DEFAULT = "default"
    CUSTOM = "custom"
    CONSENT = "consent"
    LOYALTY = "loyalty"
    EVENT = "event"


_TEXT_OPS = (
    Operator.EQUALS,
    Operator.NOT_EQUALS,
    Operator.CONTAINS,
    Operator.NOT_CONTAINS,
    Operator.STARTS_WITH,
    Operator.ENDS_WITH,
    Operator.IN_LIST,
    Operator.NOT_IN_LIST,
    Operator.IS_EMPTY,
    Operator.IS_NOT_EMPTY,
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
    Operator.IS_EMPTY,
    Operator.IS_NOT_EMPTY,
)
_DATE_OPS = (
    Operator.ON,
    Operator.BEFORE,
    Operator.AFTER,
    Operator.BETWEEN,
    Operator.IN_LAST_DAYS,
    Operator.MORE_THAN_DAYS_AGO,
    Operator.IS_EMPTY,
    Operator.IS_NOT_EMPTY,
)
_BOOLEAN_OPS = (Operator.IS_TRUE, Operator.IS_FALSE, Operator.IS_EMPTY, Operator.IS_NOT_EMPTY)

OPERATORS_BY_TYPE: dict[FieldType, tuple[Operator, ...]] = {
    FieldType.SINGLE_LINE_TEXT: _TEXT_OPS,
    FieldType.NUMBER: _NUMBER_OPS,
    FieldType.DATE: _DATE_OPS,
    FieldType.BOOLEAN: _BOOLEAN_OPS,
}


# How each field type is stored in the warehouse unless a field says otherwise.
WAREHOUSE_TYPES: dict[FieldType, str] = {
    FieldType.SINGLE_LINE_TEXT: "STRING",
    FieldType.NUMBER: "FLOAT64",
    FieldType.DATE: "DATE",
    FieldType.BOOLEAN: "BOOL",
}


class FieldDef(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Name used in rule sets.")
    column: str = Field(description="Warehouse column.")
    type: FieldType
    label: str
    category: FieldCategory = FieldCategory.DEFAULT
    warehouse_type: str | None = Field(None, description="Column type, if not the type's default.")

    @property
    def column_type(self) -> str:
        return self.warehouse_type or WAREHOUSE_TYPES[self.type]


class ObjectType(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    table: str = Field(description="Warehouse table in the account's dataset.")
    id_column: str
    fields: tuple[FieldDef, ...]
    display_columns: tuple[str, ...] = ()

    def field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)


def _f(
    name: str,
    type_: FieldType,
    label: str,
    category: FieldCategory = FieldCategory.DEFAULT,
    warehouse_type: str | None = None,
) -> FieldDef:
    return FieldDef(
        name=name,
        column=name,
        type=type_,
        label=label,
        category=category,
        warehouse_type=warehouse_type,
    )


CUSTOMER = ObjectType(
    name="customer",
    label="Customer",
    table="customers",
    id_column="customer_id",
    fields=(
        _f("full_name", FieldType.SINGLE_LINE_TEXT, "Full name"),
        _f("email", FieldType.SINGLE_LINE_TEXT, "Email"),
        _f("city", FieldType.SINGLE_LINE_TEXT, "City"),
        _f("source", FieldType.SINGLE_LINE_TEXT, "Source"),
        _f("gender", FieldType.SINGLE_LINE_TEXT, "Gender"),
        _f("age", FieldType.NUMBER, "Age", warehouse_type="INT64"),
        _f("lifetime_value", FieldType.NUMBER, "Lifetime value"),
        _f("signed_up_on", FieldType.DATE, "Signed up on"),
        _f("is_vip", FieldType.BOOLEAN, "VIP", FieldCategory.LOYALTY),
        _f("email_opt_in", FieldType.BOOLEAN, "Email opt-in", FieldCategory.CONSENT),
    ),
    display_columns=("full_name", "email", "city"),
)

OBJECT_TYPES: dict[str, ObjectType] = {o.name: o for o in (CUSTOMER,)}
