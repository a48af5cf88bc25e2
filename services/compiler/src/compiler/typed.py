"""Validation pass: checks a rule set against the catalog and types its values.

Returns every error at once (the frontend marks each bad row), or a typed tree
the SQL pass can trust: fields resolved to catalog entries, values coerced to
the field's type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.catalog import OBJECT_TYPES, OPERATORS_BY_TYPE, FieldDef, FieldType, ObjectType
from contracts.rules import Combinator, Group, Operator, PropertyCondition, RuleSet

from compiler.errors import RuleError, RuleSetInvalidError

TypedValue = str | int | float | date | tuple[Any, ...] | None

_NO_VALUE = {Operator.IS_EMPTY, Operator.IS_NOT_EMPTY, Operator.IS_TRUE, Operator.IS_FALSE}
_LIST_OPS = {Operator.IN_LIST, Operator.NOT_IN_LIST}
_DAY_COUNT_OPS = {Operator.IN_LAST_DAYS, Operator.MORE_THAN_DAYS_AGO}
MAX_LIST_VALUES = 1000
MAX_TEXT_VALUE = 1000


@dataclass(frozen=True)
class TypedCondition:
    field: FieldDef
    operator: Operator
    value: TypedValue


@dataclass(frozen=True)
class TypedGroup:
    combinator: Combinator
    negate: bool
    rules: tuple[TypedCondition | TypedGroup, ...]


@dataclass(frozen=True)
class TypedRuleSet:
    object: ObjectType
    root: TypedGroup


class _ValueError(Exception):
    pass


def _scalar(field: FieldDef, raw: object) -> str | int | float | date:
    if field.type is FieldType.SINGLE_LINE_TEXT:
        if not isinstance(raw, str) or raw == "":
            raise _ValueError("expected a non-empty string")
        if len(raw) > MAX_TEXT_VALUE:
            raise _ValueError(f"at most {MAX_TEXT_VALUE} characters")
        return raw
    if field.type is FieldType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise _ValueError("expected a number")
        return raw
    if field.type is FieldType.DATE:
        if not isinstance(raw, str):
            raise _ValueError("expected a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise _ValueError("expected a date as YYYY-MM-DD") from exc
    raise _ValueError(f"{field.type} fields take no value")


def _value(field: FieldDef, op: Operator, raw: object) -> TypedValue:
    if op in _NO_VALUE:
        if raw is not None:
            raise _ValueError(f"{op} takes no value")
        return None
    if op in _DAY_COUNT_OPS:
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= 36500:
            raise _ValueError("expected a whole number of days between 1 and 36500")
        return raw
    if op in _LIST_OPS:
        if not isinstance(raw, list) or not raw:
            raise _ValueError("expected a non-empty list")
        if len(raw) > MAX_LIST_VALUES:
            raise _ValueError(f"at most {MAX_LIST_VALUES} values")
        return tuple(_scalar(field, v) for v in raw)
    if op is Operator.BETWEEN:
        if not isinstance(raw, list) or len(raw) != 2:
            raise _ValueError("expected [low, high]")
        low, high = (_scalar(field, v) for v in raw)
        if low > high:  # type: ignore[operator]
            raise _ValueError("low must not be greater than high")
        return (low, high)
    return _scalar(field, raw)


class _Checker:
    def __init__(self, obj: ObjectType) -> None:
        self.obj = obj
        self.errors: list[RuleError] = []

    def group(self, group: Group, path: str) -> TypedGroup:
        rules: list[TypedCondition | TypedGroup] = []
        for i, rule in enumerate(group.rules):
            child_path = f"{path}.rules[{i}]"
            if isinstance(rule, Group):
                rules.append(self.group(rule, child_path))
            else:
                typed = self.condition(rule, child_path)
                if typed is not None:
                    rules.append(typed)
        return TypedGroup(group.combinator, group.negate, tuple(rules))

    def condition(self, cond: PropertyCondition, path: str) -> TypedCondition | None:
        field = self.obj.field(cond.field)
        if field is None:
            self.errors.append(
                RuleError(
                    f"{path}.field",
                    "unknown_field",
                    f"'{cond.field[:80]}' is not a field of {self.obj.name}",
                )
            )
            return None
        if cond.operator not in OPERATORS_BY_TYPE[field.type]:
            self.errors.append(
                RuleError(
                    f"{path}.operator",
                    "operator_not_allowed",
                    f"{cond.operator} does not apply to {field.type} field '{field.name}'",
                )
            )
            return None
        try:
            value = _value(field, cond.operator, cond.value)
        except _ValueError as exc:
            self.errors.append(RuleError(f"{path}.value", "invalid_value", str(exc)))
            return None
        return TypedCondition(field, cond.operator, value)


def check(rule_set: RuleSet, *, base_path: str = "rules") -> list[RuleError]:
    """Every error of the rule set at once; empty when it compiles."""
    try:
        type_rule_set(rule_set, base_path=base_path)
    except RuleSetInvalidError as exc:
        return exc.errors
    return []


def type_rule_set(rule_set: RuleSet, *, base_path: str = "rules") -> TypedRuleSet:
    obj = OBJECT_TYPES.get(rule_set.object)
    if obj is None:
        raise RuleSetInvalidError(
            [
                RuleError(
                    f"{base_path}.object",
                    "unknown_object",
                    f"'{rule_set.object[:80]}' is not an object type",
                )
            ]
        )
    checker = _Checker(obj)
    root = checker.group(rule_set.root, f"{base_path}.root")
    if checker.errors:
        raise RuleSetInvalidError(checker.errors)
    return TypedRuleSet(obj, root)
