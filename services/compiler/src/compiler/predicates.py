"""SQL pass: a typed rule tree becomes one sqlglot boolean expression.

A dispatch on node type, one function per operator family. Every leaf is made
two-valued (`COALESCE(pred, FALSE)`) so that NOT and exclusion groups are exact:
an object with a NULL field never falls through both a rule and its negation.
User values never enter the tree as literals; each becomes a named parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from contracts.catalog import FieldType
from contracts.rules import Combinator, Operator
from sqlglot import exp

from compiler.typed import TypedCondition, TypedGroup

# The day relative windows are measured from, bound at submit time (the build
# date in the account's time zone), so one compiled query serves every run.
BUILD_DATE_PARAM = "build_date"
ROW_ALIAS = "t"


class Params:
    """Collects parameter values and hands out their names in tree order."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> exp.Expr:
        name = f"p{len(self.values)}"
        self.values[name] = list(value) if isinstance(value, tuple) else value
        return param(name)


def param(name: str) -> exp.Expr:
    return exp.Parameter(this=exp.Var(this=name))


def column(name: str) -> exp.Column:
    return exp.column(name, table=ROW_ALIAS, quoted=True)


def _lower(e: exp.Expr) -> exp.Expr:
    return exp.Lower(this=e)


def _text(cond: TypedCondition, col: exp.Expr, params: Params) -> exp.Expr:
    """Text comparisons ignore case: values are lowered here, columns in SQL."""
    op, value = cond.operator, cond.value
    low = _lower(col)
    if op in (Operator.IS_EMPTY, Operator.IS_NOT_EMPTY):
        empty = exp.or_(
            exp.Is(this=col, expression=exp.Null()),
            exp.EQ(this=col, expression=exp.Literal.string("")),
        )
        return empty if op is Operator.IS_EMPTY else exp.Not(this=exp.Paren(this=empty))
    if op in (Operator.IN_LIST, Operator.NOT_IN_LIST):
        assert isinstance(value, tuple)
        p = params.add(tuple(str(v).lower() for v in value))
        return exp.In(this=low, field=exp.Unnest(expressions=[p]))
    assert isinstance(value, str)
    p = params.add(value.lower())
    if op in (Operator.EQUALS, Operator.NOT_EQUALS):
        return exp.EQ(this=low, expression=p)
    if op in (Operator.CONTAINS, Operator.NOT_CONTAINS):
        # STRPOS rather than LIKE: a value's % and _ stay plain characters.
        return exp.GT(this=exp.func("STRPOS", low, p), expression=exp.Literal.number(0))
    return exp.func("STARTS_WITH" if op is Operator.STARTS_WITH else "ENDS_WITH", low, p)


def _ordered(cond: TypedCondition, col: exp.Expr, params: Params) -> exp.Expr:
    """Numbers and dates share comparison semantics; dates add relative windows."""
    op, value = cond.operator, cond.value
    if op in (Operator.IS_EMPTY, Operator.IS_NOT_EMPTY):
        is_null = exp.Is(this=col, expression=exp.Null())
        return is_null if op is Operator.IS_EMPTY else exp.Not(this=is_null)
    if op is Operator.BETWEEN:
        assert isinstance(value, tuple)
        return exp.Between(this=col, low=params.add(value[0]), high=params.add(value[1]))
    if op is Operator.IN_LIST:
        assert isinstance(value, tuple)
        return exp.In(this=col, field=exp.Unnest(expressions=[params.add(value)]))
    if op in (Operator.IN_LAST_DAYS, Operator.MORE_THAN_DAYS_AGO):
        since = exp.DateSub(
            this=param(BUILD_DATE_PARAM), expression=params.add(value), unit=exp.Var(this="DAY")
        )
        if op is Operator.IN_LAST_DAYS:
            return exp.Between(this=col, low=since, high=param(BUILD_DATE_PARAM))
        return exp.LT(this=col, expression=since)
    comparisons: dict[Operator, type[exp.Binary]] = {
        Operator.EQUALS: exp.EQ,
        Operator.ON: exp.EQ,
        Operator.NOT_EQUALS: exp.EQ,
        Operator.GT: exp.GT,
        Operator.AFTER: exp.GT,
        Operator.GTE: exp.GTE,
        Operator.LT: exp.LT,
        Operator.BEFORE: exp.LT,
        Operator.LTE: exp.LTE,
    }
    return comparisons[op](this=col, expression=params.add(value))


def _boolean(cond: TypedCondition, col: exp.Expr, _params: Params) -> exp.Expr:
    checks = {
        Operator.IS_TRUE: exp.true(),
        Operator.IS_FALSE: exp.false(),
        Operator.IS_EMPTY: exp.Null(),
    }
    if cond.operator is Operator.IS_NOT_EMPTY:
        return exp.Not(this=exp.Is(this=col, expression=exp.Null()))
    return exp.Is(this=col, expression=checks[cond.operator])


_BY_TYPE: dict[FieldType, Callable[[TypedCondition, exp.Expr, Params], exp.Expr]] = {
    FieldType.SINGLE_LINE_TEXT: _text,
    FieldType.NUMBER: _ordered,
    FieldType.DATE: _ordered,
    FieldType.BOOLEAN: _boolean,
}

# Operators expressed as the negation of their positive twin, so that an object
# with an empty field matches "not equals x" (it is not x).
_NEGATED = {Operator.NOT_EQUALS, Operator.NOT_CONTAINS, Operator.NOT_IN_LIST}


def condition(cond: TypedCondition, params: Params) -> exp.Expr:
    positive = exp.Coalesce(
        this=_BY_TYPE[cond.field.type](cond, column(cond.field.column), params),
        expressions=[exp.false()],
    )
    return exp.Not(this=positive) if cond.operator in _NEGATED else positive


def group(node: TypedGroup, params: Params) -> exp.Expr:
    parts = [
        group(rule, params) if isinstance(rule, TypedGroup) else condition(rule, params)
        for rule in node.rules
    ]
    combine = exp.and_ if node.combinator is Combinator.AND else exp.or_
    combined = exp.Paren(this=combine(*parts)) if len(parts) > 1 else parts[0]
    return exp.Not(this=combined) if node.negate else combined


def build_date_value(today: date) -> dict[str, date]:
    return {BUILD_DATE_PARAM: today}
