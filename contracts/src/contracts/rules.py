"""The canonical rule language, version 1.

A segment is a tree: a root group whose children are conditions or further
groups. Every group combines its children with AND or OR and may be negated
(an "exclude" group). Conditions are a tagged union on `type`; this version
knows property conditions, and the union is where metric, event, relationship
and membership conditions join without changing the tree.

Values stay JSON scalars here: what a value must be depends on the field's type,
which only the catalog knows, so the compiler's validator checks that (with the
JSON path of each error).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

JsonScalar = StrictBool | StrictInt | StrictFloat | StrictStr
RuleValue = JsonScalar | list[JsonScalar] | None


class Combinator(StrEnum):
    AND = "and"
    OR = "or"


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    IN_LIST = "in_list"
    NOT_IN_LIST = "not_in_list"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    BEFORE = "before"
    AFTER = "after"
    ON = "on"
    IN_LAST_DAYS = "in_last_days"
    MORE_THAN_DAYS_AGO = "more_than_days_ago"
    IS_TRUE = "is_true"
    IS_FALSE = "is_false"


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PropertyCondition(_Node):
    """Compare one field of the segment's object with a value."""

    type: Literal["property"] = "property"
    field: str = Field(
        min_length=1,
        max_length=200,
        description="Field name from the object catalog.",
        examples=["age"],
    )
    operator: Operator = Field(examples=["gt"])
    value: RuleValue = Field(
        None,
        description="Scalar, list (in_list, between) or null (is_empty, is_true).",
        examples=[30],
    )


Condition = Annotated[PropertyCondition, Field(discriminator="type")]


class Group(_Node):
    """Children combined with AND/OR; `negate` turns the group into an exclusion."""

    type: Literal["group"] = "group"
    combinator: Combinator = Combinator.AND
    negate: bool = Field(False, description="Exclude the objects the group matches.")
    rules: list[Rule] = Field(min_length=1, description="Conditions and nested groups.")


Rule = Annotated[PropertyCondition | Group, Field(discriminator="type")]


RULES_EXAMPLE: dict[str, Any] = {
    "version": 1,
    "object": "customer",
    "root": {
        "type": "group",
        "combinator": "and",
        "rules": [
            {"type": "property", "field": "age", "operator": "gt", "value": 30},
            {"type": "property", "field": "city", "operator": "equals", "value": "Jakarta"},
        ],
    },
}


class RuleSet(_Node):
    """A segment definition: which object it selects and the rule tree over it."""

    version: Literal[1] = Field(1, description="Rule language version.")
    object: str = Field(description="Object type from the catalog.", examples=["customer"])
    root: Group

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"examples": [RULES_EXAMPLE]},
    )


Group.model_rebuild()
