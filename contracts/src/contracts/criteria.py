"""The CRM RFC frontend's rule shape, `rule_set`, to and from the canonical rules.

    {"operator": "and",                         # between groups (the store's ruleSetOperator)
     "object": "customer",                      # optional: the RFC's frontend builds customers
     "groups": [{
        "exclude": false,                       # optional: the group removes what it matches
        "criteria": [{                          # the RFC's CriteriaItem rows
            "field": "city",                    # a field; a metric on metric/association rows;
                                                #   "segment" on a segment row
            "fieldType": "single_line_text",    # the palette's type of that field
            "fieldCategory": "default",         # default, custom, consent, loyalty, event,
                                                #   metric, association, segment
            "condition": "equals",              # booleans: is / is_not with true or false
            "value": "Jakarta",                 # "" (or null) for is_empty and is_not_empty
            "operator": "and",                  # joins the row to those before it
            "window": null}]}]}                 # optional, on metric and association rows

Rows combine left to right: `a, or b, and c` is `(a or b) and c`. A canonical rule
set has a criteria form when its root holds groups (or only conditions) whose rows
are field, metric and segment conditions, possibly folded that way; anything else
(event and relationship conditions, deeper nesting, windows on groups) reads back as
canonical rules only, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.catalog import Catalog, FieldType, ObjectType
from contracts.catalog.model import MetricGroup
from contracts.language import NO_VALUE
from contracts.rules import (
    Combinator,
    Group,
    MetricCondition,
    Operator,
    PropertyCondition,
    RuleSet,
    RuleValue,
    SegmentCondition,
    Window,
)


class CriteriaCategory(StrEnum):
    DEFAULT = "default"
    CUSTOM = "custom"
    CONSENT = "consent"
    LOYALTY = "loyalty"
    EVENT = "event"
    METRIC = "metric"
    ASSOCIATION = "association"
    SEGMENT = "segment"


SEGMENT_FIELD = "segment"
SEGMENT_TYPE = "segment"
_AGGREGATE_ROWS = {CriteriaCategory.METRIC, CriteriaCategory.ASSOCIATION}


class _Wire(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False
    )


class CriteriaItem(_Wire):
    """One condition row of the RFC's builder."""

    field: str = Field(min_length=1, max_length=200, examples=["city"])
    field_type: str = Field(
        alias="fieldType",
        max_length=40,
        description="The field's type as the palette gives it; `segment` on segment rows.",
        examples=["single_line_text"],
    )
    field_category: CriteriaCategory = Field(
        CriteriaCategory.DEFAULT, alias="fieldCategory", examples=["default"]
    )
    condition: str = Field(
        max_length=40,
        description="The comparison: an operator of the field's type; booleans take "
        "`is` or `is_not` with true or false; segment rows `in` or `not_in`.",
        examples=["equals"],
    )
    value: RuleValue = Field(None, examples=["Jakarta"])
    operator: Combinator | None = Field(
        None, description="How the row joins the rows before it (ignored on the first)."
    )
    window: Window | None = Field(None, description="On metric and association rows.")


class CriteriaGroup(_Wire):
    criteria: list[CriteriaItem] = Field(min_length=1, max_length=100)
    exclude: bool = Field(False, description="Remove the objects the group matches.")


class CriteriaRuleSet(_Wire):
    """The RFC frontend's rule set: groups of condition rows."""

    object: str = Field("customer", max_length=200, examples=["customer"])
    operator: Combinator = Field(Combinator.AND, description="Between groups.")
    groups: list[CriteriaGroup] = Field(min_length=1, max_length=100)


RULE_SET_EXAMPLE: dict[str, Any] = {
    "operator": "and",
    "groups": [
        {
            "criteria": [
                {
                    "field": "city",
                    "fieldType": "single_line_text",
                    "fieldCategory": "default",
                    "condition": "equals",
                    "value": "Jakarta",
                },
                {
                    "field": "age",
                    "fieldType": "number",
                    "fieldCategory": "default",
                    "condition": "gt",
                    "value": 30,
                    "operator": "and",
                },
            ]
        },
        {
            "criteria": [
                {
                    "field": "email_opt_in",
                    "fieldType": "boolean",
                    "fieldCategory": "consent",
                    "condition": "is",
                    "value": True,
                }
            ]
        },
    ],
}


@dataclass
class Converted:
    """The canonical rules, and for each canonical JSON path the criteria path that
    produced it (so errors point at the row the frontend shows)."""

    rules: RuleSet
    paths: dict[str, str] = field(default_factory=dict)

    def criteria_path(self, canonical: str) -> str:
        """The longest known prefix of `canonical`, as a criteria path."""
        best = max((p for p in self.paths if canonical.startswith(p)), key=len, default=None)
        if best is None:
            return "rule_set"
        return self.paths[best] + canonical[len(best) :]


class CriteriaError(ValueError):
    def __init__(self, errors: list[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {m}" for p, _, m in errors))
        self.errors = errors  # (criteria path, code, message)


_CONDITION_FIELDS = {"field", "fieldType", "fieldCategory", "condition", "value", "window"}


def _row(item: CriteriaItem, path: str, errors: list[tuple[str, str, str]]) -> dict[str, Any]:
    """One row as a canonical condition (a negated group for `is_not` on a boolean)."""
    cat = item.field_category
    condition = item.condition
    if cat is CriteriaCategory.SEGMENT:
        if condition not in ("in", "not_in"):
            errors.append(
                (f"{path}.condition", "invalid_condition", "segment rows take in or not_in")
            )
        return {"type": "segment", "segment_id": item.value, "operator": condition}
    if item.field_type == FieldType.BOOLEAN.value and condition in ("is", "is_not"):
        if not isinstance(item.value, bool):
            errors.append((f"{path}.value", "invalid_value", "expected true or false"))
            return {"type": "property", "field": item.field, "operator": "is_true"}
        positive = {
            "type": "property",
            "field": item.field,
            "operator": "is_true" if item.value else "is_false",
        }
        if condition == "is":
            return positive
        return {"type": "group", "negate": True, "rules": [positive]}
    try:
        op = Operator(condition)
    except ValueError:
        errors.append(
            (f"{path}.condition", "invalid_condition", f"unknown condition '{condition[:40]}'")
        )
        op = Operator.EQUALS
    value = None if op in NO_VALUE and item.value in ("", None) else item.value
    if cat in _AGGREGATE_ROWS:
        node: dict[str, Any] = {
            "type": "metric",
            "metric": item.field,
            "operator": op,
            "value": value,
        }
        if item.window is not None:
            node["window"] = item.window.model_dump(mode="json")
        return node
    if item.window is not None:
        errors.append(
            (
                f"{path}.window",
                "window_not_applicable",
                "windows apply to metric and association rows",
            )
        )
    return {"type": "property", "field": item.field, "operator": op, "value": value}


def _fold(rows: list[tuple[Combinator, dict[str, Any]]]) -> dict[str, Any]:
    """Rows joined left to right; a run of one operator stays one group."""
    combinator, nodes = rows[0][0], [rows[0][1]]
    for op, node in rows[1:]:
        if op is combinator or len(nodes) == 1:
            combinator = op
            nodes.append(node)
        else:
            nodes = [{"type": "group", "combinator": combinator, "rules": nodes}, node]
            combinator = op
    return {"type": "group", "combinator": combinator, "rules": nodes}


def to_canonical(rule_set: CriteriaRuleSet, catalog: Catalog | None = None) -> Converted:
    """The canonical rule set of a criteria rule set; CriteriaError names the rows it
    cannot convert (by criteria path)."""
    errors: list[tuple[str, str, str]] = []
    obj = catalog.get(rule_set.object) if catalog else None
    groups: list[dict[str, Any]] = []
    paths: dict[str, str] = {}
    for g, group in enumerate(rule_set.groups):
        rows: list[tuple[Combinator, dict[str, Any]]] = []
        for r, item in enumerate(group.criteria):
            path = f"rule_set.groups[{g}].criteria[{r}]"
            if obj is not None and item.field_category not in (
                *_AGGREGATE_ROWS,
                CriteriaCategory.SEGMENT,
            ):
                fd = obj.field(item.field)
                if fd is not None and not fd.references and fd.type.value != item.field_type:
                    errors.append(
                        (
                            f"{path}.fieldType",
                            "field_type_mismatch",
                            f"'{item.field}' is a {fd.type.value} field",
                        )
                    )
            op = item.operator or Combinator.AND
            if r == 1:
                rows[0] = (op, rows[0][1])  # the first row's operator is the second's
            rows.append((op, _row(item, path, errors)))
        node = _fold(rows)
        node["negate"] = group.exclude
        groups.append(node)
    if errors:
        raise CriteriaError(errors)
    raw = {
        "object": rule_set.object,
        "root": {"type": "group", "combinator": rule_set.operator, "rules": groups},
    }
    try:
        rules = RuleSet.model_validate(raw)
    except ValidationError as exc:
        raise CriteriaError(
            [("rule_set", "invalid_condition", e["msg"]) for e in exc.errors()]
        ) from exc
    _map_paths(rules, paths)
    return Converted(rules, paths)


def _map_paths(rules: RuleSet, paths: dict[str, str]) -> None:
    """Canonical path of each row → its criteria path, by walking the folded groups."""
    for g, group in enumerate(rules.root.rules):
        assert isinstance(group, Group)
        base = f"rules.root.rules[{g}]"
        paths[base] = f"rule_set.groups[{g}]"
        for canonical, r in _row_paths(group, base):
            paths[canonical] = f"rule_set.groups[{g}].criteria[{r}]"


def _row_paths(group: Group, base: str) -> list[tuple[str, int]]:
    """(canonical path, row index) of each row of a folded group, in row order."""
    found: list[tuple[str, int]] = []
    children = list(enumerate(group.rules))
    if children and _is_fold(children[0][1]):
        assert isinstance(children[0][1], Group)
        found = _row_paths(children[0][1], f"{base}.rules[0]")
        children = children[1:]
    for i, _ in children:
        found.append((f"{base}.rules[{i}]", len(found)))
    return found


def _is_fold(node: object) -> bool:
    return isinstance(node, Group) and not node.negate and node.window is None


class NoCriteriaForm(ValueError):  # noqa: N818 - a reason, read by callers
    pass


def from_canonical(rules: RuleSet, catalog: Catalog) -> CriteriaRuleSet:
    """The criteria form of a canonical rule set; NoCriteriaForm says why there is none."""
    obj = catalog.get(rules.object)
    if obj is None:
        raise NoCriteriaForm(f"unknown object {rules.object}")
    root = rules.root
    if root.negate or root.window is not None:
        raise NoCriteriaForm("the root group is negated or windowed")
    if all(isinstance(r, Group) and not _is_boolean_negation(r) for r in root.rules):
        group_nodes = [r for r in root.rules if isinstance(r, Group)]
        operator = root.combinator
    else:
        group_nodes, operator = [root], Combinator.AND
    groups = []
    for node in group_nodes:
        if node.window is not None:
            raise NoCriteriaForm("a group has a window")
        rows = _rows_of(node, obj)
        groups.append(
            CriteriaGroup(criteria=rows, exclude=node.negate if node is not root else False)
        )
    return CriteriaRuleSet(object=rules.object, operator=operator, groups=groups)


def _is_boolean_negation(node: Group) -> bool:
    return (
        node.negate
        and node.window is None
        and len(node.rules) == 1
        and isinstance(node.rules[0], PropertyCondition)
        and node.rules[0].operator in (Operator.IS_TRUE, Operator.IS_FALSE)
    )


def _rows_of(group: Group, obj: ObjectType) -> list[CriteriaItem]:
    rows: list[CriteriaItem] = []
    children = list(group.rules)
    if children and _is_fold(children[0]):
        inner = children[0]
        assert isinstance(inner, Group)
        rows = _rows_of(inner, obj)  # a leading plain group is the left part of a fold
        children = children[1:]
    for child in children:
        rows.append(_item(child, obj, group.combinator))
    if rows:
        # the first row carries the operator of the run it starts, as to_canonical reads it
        first_run = rows[1].operator if len(rows) > 1 else group.combinator
        rows[0] = rows[0].model_copy(update={"operator": first_run})
    return rows


def _item(node: object, obj: ObjectType, combinator: Combinator) -> CriteriaItem:
    if isinstance(node, Group):
        if not _is_boolean_negation(node):
            raise NoCriteriaForm("groups nest deeper than the criteria form shows")
        inner = node.rules[0]
        assert isinstance(inner, PropertyCondition)
        return _property(inner, obj, combinator, negated=True)
    if isinstance(node, PropertyCondition):
        return _property(node, obj, combinator, negated=False)
    if isinstance(node, MetricCondition):
        metric = obj.metric(node.metric)
        category = (
            CriteriaCategory.ASSOCIATION
            if metric is not None and metric.group is MetricGroup.ACTIVITY
            else CriteriaCategory.METRIC
        )
        return CriteriaItem(
            field=node.metric,
            field_type=FieldType.NUMBER.value,
            field_category=category,
            condition=node.operator.value,
            value="" if node.operator in NO_VALUE else node.value,
            operator=combinator,
            window=node.window,
        )
    if isinstance(node, SegmentCondition):
        return CriteriaItem(
            field=SEGMENT_FIELD,
            field_type=SEGMENT_TYPE,
            field_category=CriteriaCategory.SEGMENT,
            condition=node.operator,
            value=str(node.segment_id),
            operator=combinator,
        )
    raise NoCriteriaForm(f"{getattr(node, 'type', 'this')} conditions have no criteria form")


def _property(
    node: PropertyCondition, obj: ObjectType, combinator: Combinator, *, negated: bool
) -> CriteriaItem:
    fd = obj.field(node.field)
    if fd is None:
        raise NoCriteriaForm(f"unknown field {node.field}")
    condition: str = node.operator.value
    value: Any = "" if node.operator in NO_VALUE else node.value
    if node.operator in (Operator.IS_TRUE, Operator.IS_FALSE):  # booleans: is / is_not
        condition, value = ("is_not" if negated else "is"), node.operator is Operator.IS_TRUE
    return CriteriaItem(
        field=node.field,
        field_type=fd.type.value,
        field_category=CriteriaCategory(fd.category.value),
        condition=condition,
        value=value,
        operator=combinator,
    )
