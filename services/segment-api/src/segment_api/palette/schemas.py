"""Response bodies of the field palette."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.language import BEHAVIOUR_KINDS, COUNT_KIND_OPERATORS, METRIC_OPERATORS


class FieldOut(BaseModel):
    name: str
    label: str
    type: str
    category: str
    operators: list[str]
    options: list[str] = Field(default_factory=list)
    discovered: bool = Field(False, description="Found in the warehouse, not yet registered.")


class MetricOut(BaseModel):
    name: str
    label: str
    group: str
    relation: str
    operators: list[str] = Field(
        default_factory=lambda: [o.value for o in METRIC_OPERATORS],
        description="Operators a metric condition takes (the same for every metric).",
    )


class EventOut(BaseModel):
    name: str
    label: str
    kind: str
    names: list[str] = Field(description="Event names one may pick.")
    operators: list[str] = Field(
        default_factory=lambda: [o.value for o in COUNT_KIND_OPERATORS],
        description="Operators on the count of events.",
    )
    relation: str = Field(
        description="The rows it reads: a sequence's steps all read the same rows."
    )
    fields: list[FieldOut] = Field(
        default_factory=list,
        description="The events' own fields, for filters and an occurrence's `where`.",
    )
    behaviours: list[str] = Field(
        default_factory=list,
        description="Behaviour condition kinds it takes (its rows have a date).",
        examples=[list(BEHAVIOUR_KINDS)],
    )


class RelationOut(BaseModel):
    name: str
    label: str
    target: str = Field(description="The related object: its fields are the filters'.")
    operators: list[str] = Field(
        default_factory=lambda: [o.value for o in COUNT_KIND_OPERATORS],
        description="Operators on the count of related objects.",
    )


class PaletteOut(BaseModel):
    object: str
    label: str
    fields: list[FieldOut]
    metrics: list[MetricOut]
    events: list[EventOut]
    relations: list[RelationOut]
    channels: list[str]
    periods: dict[str, int] = Field(
        default_factory=dict,
        description="`regularly` periods and how many of each it may look back.",
        examples=[{"day": 366, "week": 104, "month": 60}],
    )


class ValueCount(BaseModel):
    value: Any
    count: int


class FieldValuesOut(BaseModel):
    field: str
    popular: list[ValueCount]
    sample: list[Any]
    unique_count: int


class CriteriaFieldOut(BaseModel):
    """A field as the RFC's condition palette shows it: what a criteria row sends back."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str = Field(description="The row's `field`.")
    name: str = Field(description="Its label.")
    field_type: str = Field(alias="fieldType")
    field_category: str = Field(alias="fieldCategory")
    conditions: list[str] = Field(description="What the row's `condition` may be.")
    options: list[str] = Field(default_factory=list)


class AssociationItemOut(BaseModel):
    id: str = Field(description="The row's `field` (a metric).")
    name: str
    field_type: str = Field(description="The value input to show.")


class AssociationGroupOut(BaseModel):
    """One of the builder's association or metric groups (Deals, Conversations, RFM…)."""

    label: str
    field_category: Literal["association", "metric"] = Field(
        alias="fieldCategory", serialization_alias="fieldCategory"
    )
    conditions: list[str]
    items: list[AssociationItemOut]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class CustomerFieldsOut(BaseModel):
    """The CRM frontend's condition palette for customers."""

    fields: list[CriteriaFieldOut]
    associations: list[AssociationGroupOut]
    metrics: list[AssociationGroupOut]
