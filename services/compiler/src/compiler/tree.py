"""The SQL pass's dispatch on node type: a typed rule tree becomes joins plus one
boolean expression, each node's predicate kept (by JSON path) for the per-node counts."""

from __future__ import annotations

from sqlglot import exp

from compiler.behaviour import BEHAVIOURS
from compiler.predicates import (
    ZERO_WHEN_EMPTY,
    Context,
    ObjectInfo,
    aggregate_condition,
    false_if_null,
    membership_condition,
    property_condition,
    window_filter,
)
from compiler.sql import column
from compiler.typed import TypedAggregate, TypedGroup, TypedMembership, TypedNode
from compiler.typed_nodes import TypedProperty
from contracts.rules import Combinator
from contracts.warehouse import MEMBER_ID_COLUMN


def node(n: TypedNode, ctx: Context, obj: ObjectInfo) -> exp.Expr:
    if isinstance(n, TypedGroup):
        built = group(n, ctx, obj)
    elif isinstance(n, TypedProperty):
        built = property_condition(n, ctx, obj=obj)
        ctx.values.append((n.path, column(n.field.column)))
    elif isinstance(n, TypedAggregate):
        built = aggregate_condition(n, ctx)
        ctx.values.append((n.path, _joined(ctx, "v", zero=n.aggregate in ZERO_WHEN_EMPTY)))
    elif isinstance(n, TypedMembership):
        built = membership_condition(n, ctx, obj.id_column)
        held = exp.Is(this=_joined(ctx, MEMBER_ID_COLUMN), expression=exp.Null())
        ctx.values.append((n.path, exp.Not(this=held)))
    else:
        built = BEHAVIOURS[type(n)](n, ctx)
        ctx.values.append((n.path, false_if_null(_joined(ctx, "v"))))
    ctx.nodes.append((n.path, built))
    return built


def _joined(ctx: Context, name: str, *, zero: bool = False) -> exp.Expr:
    """A column of the source a condition just joined (its CTE, or an embedded
    segment's members): the value that decided it."""
    source = ctx.joins[-1][0]
    alias = source.alias_or_name
    value: exp.Expr = exp.column(name, table=alias, quoted=True)
    return exp.Coalesce(this=value, expressions=[exp.Literal.number(0)]) if zero else value


def group(g: TypedGroup, ctx: Context, obj: ObjectInfo) -> exp.Expr:
    parts = [node(rule, ctx, obj) for rule in g.rules]
    combine = exp.and_ if g.combinator is Combinator.AND else exp.or_
    # Not copied: the parts stay shared with ctx.nodes, and preview copies those.
    combined = combine(*parts, copy=False) if len(parts) > 1 else parts[0]
    if g.window is not None and obj.time_column:
        # A windowed group over a time-keyed object (sessions, events) looks at the
        # object rows inside its window only.
        bounded = window_filter(g.window, column(obj.time_column), ctx)
        if bounded is not None:
            combined = exp.and_(false_if_null(bounded), combined, copy=False)
    combined = exp.Paren(this=combined) if len(parts) > 1 or g.window is not None else combined
    return exp.Not(this=combined) if g.negate else combined
