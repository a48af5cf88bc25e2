"""SQL pass for the behaviour conditions: each reads one event source's dated rows into
a CTE keyed by the object (`k`) with a verdict (`v`), LEFT JOINed to the object's row
as the aggregates are, so an object with no such rows is there with no verdict (false).

Events are ordered by their date, then by their event id (same-day events are taken in
the order of their ids): a strict order, so no event ever stands for two steps.
User values are parameters; identifiers come from the catalog."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from compiler.predicates import (
    RELATED_ALIAS,
    Context,
    false_if_null,
    property_condition,
    window_filter,
)
from compiler.sql import column, table
from compiler.typed_nodes import (
    EventRows,
    TypedBehaviour,
    TypedOccurrence,
    TypedRegularly,
    TypedRestarted,
    TypedSequence,
    TypedStopped,
)

_R = RELATED_ALIAS
_DAY = exp.Var(this="DAY")
# Day 1 of the proleptic calendar was a Monday: whole weeks count from it.
_EPOCH = "0001-01-01"


def _col(name: str, alias: str) -> exp.Column:
    return exp.column(name, table=alias, quoted=True)


def _days_before(ctx: Context, anchor: exp.Expr, days: int) -> exp.Expr:
    return exp.DateSub(this=anchor, expression=ctx.add(days), unit=_DAY)


def _days_after(anchor: exp.Expr, days: exp.Expr) -> exp.Expr:
    return exp.DateAdd(this=anchor, expression=days, unit=_DAY)


def _after(a: str, b: str) -> exp.Expr:
    """Row `b` comes after row `a`: a later day, or the same day and a greater id."""
    return exp.or_(
        exp.GT(this=_col("d", b), expression=_col("d", a)),
        exp.and_(
            exp.EQ(this=_col("d", b), expression=_col("d", a)),
            exp.GT(this=_col("rid", b), expression=_col("rid", a)),
        ),
    )


def _where(rows: EventRows, ctx: Context) -> list[exp.Expr]:
    """The rows that count: the source's, with a date (an undated event has no place in
    any order or period)."""
    dated = exp.Not(this=exp.Is(this=column(rows.time_column, _R), expression=exp.Null()))
    return [*(property_condition(f, ctx, _R) for f in rows.filters), dated]


def _rows(rows: EventRows, ctx: Context, *extra: exp.Expr) -> exp.Select:
    """`k`, `d` (the date) and `rid` (the event id) of the rows that count."""
    select = exp.select(
        exp.alias_(column(rows.relation.target_column, _R), "k", quoted=True),
        exp.alias_(column(rows.time_column, _R), "d", quoted=True),
        exp.alias_(column(rows.id_column, _R), "rid", quoted=True),
        copy=False,
    ).from_(table(ctx.project, ctx.dataset, rows.target.table, _R), copy=False)
    where = [*_where(rows, ctx), *extra]
    return select.where(exp.and_(*where), copy=False) if where else select


def _cte(ctx: Context, name: str, select: exp.Select) -> str:
    ctx.ctes.append((name, select))
    return name


def _verdict(ctx: Context, rows: EventRows, name: str) -> exp.Expr:
    """Join the verdict CTE to the object's row; no row there is false."""
    ctx.joins.append(
        (
            exp.Table(this=exp.to_identifier(name)),
            exp.EQ(
                this=exp.column("k", table=name, quoted=True),
                expression=column(rows.relation.object_column),
            ),
        )
    )
    return false_if_null(exp.column("v", table=name, quoted=True))


def _sub(select: exp.Select, alias: str) -> exp.Subquery:
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def sequence(n: TypedSequence, ctx: Context) -> exp.Expr:
    """Each step's CTE holds the rows that complete the order so far, each with the
    latest first-step date (`st`) among the chains that end there: the latest start is
    the best for the whole sequence's limit, and the latest earlier step the best for a
    step's own, so keeping only those is exact."""
    base = f"q{len(ctx.ctes)}"
    first = _rows(n.steps[0], ctx)
    first.select(exp.alias_(column(n.steps[0].time_column, _R), "st", quoted=True), copy=False)
    bounded = window_filter(n.window, column(n.steps[0].time_column, _R), ctx)
    if bounded is not None:
        first.where(bounded, copy=False)
    prev = _cte(ctx, f"{base}_0", first)
    for i, (rows, gap) in enumerate(zip(n.steps[1:], n.gaps, strict=True), start=1):
        on = [exp.EQ(this=_col("k", "a"), expression=_col("k", "b")), _after("a", "b")]
        if gap is not None:
            on.append(
                exp.GTE(this=_col("d", "a"), expression=_days_before(ctx, _col("d", "b"), gap))
            )
        if n.total_days is not None:
            on.append(
                exp.GTE(
                    this=_col("st", "a"), expression=_days_before(ctx, _col("d", "b"), n.total_days)
                )
            )
        step = (
            exp.select(
                _col("k", "b"),
                _col("d", "b"),
                _col("rid", "b"),
                exp.alias_(exp.Max(this=_col("st", "a")), "st", quoted=True),
                copy=False,
            )
            .from_(_sub(_rows(rows, ctx), "b"), copy=False)
            .join(
                exp.Table(
                    this=exp.to_identifier(prev), alias=exp.TableAlias(this=exp.to_identifier("a"))
                ),
                on=exp.and_(*on),
                copy=False,
            )
            .group_by(_col("k", "b"), _col("d", "b"), _col("rid", "b"), copy=False)
        )
        prev = _cte(ctx, f"{base}_{i}", step)
    last = exp.Table(
        this=exp.to_identifier(prev), alias=exp.TableAlias(this=exp.to_identifier("l"))
    )
    done = exp.select(
        exp.alias_(_col("k", "l"), "k", quoted=True),
        exp.alias_(exp.true(), "v", quoted=True),
        copy=False,
    ).from_(last, copy=False)
    if n.absent is not None and n.absent_days is not None:
        days = ctx.add(n.absent_days)
        until = _days_after(_col("d", "l"), days)
        later = _rows(n.absent, ctx)
        later = (
            exp.select(exp.Literal.number(1), copy=False)
            .from_(_sub(later, "x"), copy=False)
            .where(
                exp.and_(
                    exp.EQ(this=_col("k", "x"), expression=_col("k", "l")),
                    _after("l", "x"),
                    exp.LTE(this=_col("d", "x"), expression=until.copy()),
                ),
                copy=False,
            )
        )
        done = done.where(
            exp.and_(
                exp.LT(this=until, expression=ctx.build_date()),
                exp.Not(this=exp.Exists(this=later)),
            ),
            copy=False,
        )
    done = done.group_by(_col("k", "l"), copy=False)
    return _verdict(ctx, n.steps[0], _cte(ctx, base, done))


def _ranked(rows: EventRows, ctx: Context, hit: exp.Expr, *, desc: bool) -> exp.Select:
    order = exp.Order(
        expressions=[
            exp.Ordered(this=column(rows.time_column, _R), desc=desc),
            exp.Ordered(this=column(rows.id_column, _R), desc=desc),
        ]
    )
    n = exp.Window(
        this=exp.RowNumber(),
        partition_by=[column(rows.relation.target_column, _R)],
        order=order,
    )
    select = exp.select(
        exp.alias_(column(rows.relation.target_column, _R), "k", quoted=True),
        exp.alias_(hit, "v", quoted=True),
        exp.alias_(n, "n", quoted=True),
        copy=False,
    ).from_(table(ctx.project, ctx.dataset, rows.target.table, _R), copy=False)
    where = _where(rows, ctx)
    return select.where(exp.and_(*where), copy=False) if where else select


def occurrence(n: TypedOccurrence, ctx: Context) -> exp.Expr:
    """The object's first (or last) such row, and whether it fell in the window and
    matched `where`."""
    checks: list[exp.Expr] = [property_condition(f, ctx, _R) for f in n.where]
    bounded = window_filter(n.window, column(n.rows.time_column, _R), ctx)
    if bounded is not None:
        checks.insert(0, false_if_null(bounded))
    hit = exp.and_(*checks) if checks else exp.true()
    one = (
        exp.select(_col("k", "o"), _col("v", "o"), copy=False)
        .from_(_sub(_ranked(n.rows, ctx, hit, desc=not n.first), "o"), copy=False)
        .where(exp.EQ(this=_col("n", "o"), expression=exp.Literal.number(1)), copy=False)
    )
    return _verdict(ctx, n.rows, _cte(ctx, f"q{len(ctx.ctes)}", one))


def _per_object(
    ctx: Context, rows: EventRows, verdict: exp.Expr, where: list[exp.Expr]
) -> exp.Expr:
    """A verdict aggregated over each object's rows that pass `where`, joined."""
    key = column(rows.relation.target_column, _R)
    select = (
        exp.select(
            exp.alias_(key, "k", quoted=True), exp.alias_(verdict, "v", quoted=True), copy=False
        )
        .from_(table(ctx.project, ctx.dataset, rows.target.table, _R), copy=False)
        .where(exp.and_(*where), copy=False)
        .group_by(key.copy(), copy=False)
    )
    return _verdict(ctx, rows, _cte(ctx, f"q{len(ctx.ctes)}", select))


def _count_when(condition: exp.Expr) -> exp.Expr:
    return exp.Count(this=exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.number(1))]))


def stopped(n: TypedStopped, ctx: Context) -> exp.Expr:
    """Base period: the `base_days` days before the recent one; recent: the last
    `recent_days` days before the build date, and the build date itself."""
    d = column(n.rows.time_column, _R)
    recent_start = _days_before(ctx, ctx.build_date(), n.recent_days)
    verdict = exp.and_(
        exp.GTE(
            this=_count_when(exp.LT(this=d.copy(), expression=recent_start)),
            expression=ctx.add(n.at_least),
        ),
        exp.EQ(
            this=_count_when(exp.GTE(this=d.copy(), expression=recent_start.copy())),
            expression=exp.Literal.number(0),
        ),
    )
    span = exp.Between(
        this=d.copy(),
        low=_days_before(ctx, ctx.build_date(), n.recent_days + n.base_days),
        high=ctx.build_date(),
    )
    return _per_object(ctx, n.rows, verdict, [*_where(n.rows, ctx), span])


def restarted(n: TypedRestarted, ctx: Context) -> exp.Expr:
    """A row whose previous such row (in event order) is at least `gap_days` earlier."""
    prev = exp.Window(
        this=exp.Lag(this=column(n.rows.time_column, _R)),
        partition_by=[column(n.rows.relation.target_column, _R)],
        order=exp.Order(
            expressions=[
                exp.Ordered(this=column(n.rows.time_column, _R)),
                exp.Ordered(this=column(n.rows.id_column, _R)),
            ]
        ),
    )
    inner = _rows(n.rows, ctx)
    inner.select(exp.alias_(prev, "prev", quoted=True), copy=False)
    where: list[exp.Expr] = [
        exp.Not(this=exp.Is(this=_col("prev", "g"), expression=exp.Null())),
        exp.GTE(
            this=exp.DateDiff(this=_col("d", "g"), expression=_col("prev", "g"), unit=_DAY),
            expression=ctx.add(n.gap_days),
        ),
    ]
    bounded = window_filter(n.window, _col("d", "g"), ctx)
    if bounded is not None:
        where.append(bounded)
    select = (
        exp.select(
            exp.alias_(_col("k", "g"), "k", quoted=True),
            exp.alias_(exp.true(), "v", quoted=True),
            copy=False,
        )
        .from_(_sub(inner, "g"), copy=False)
        .where(exp.and_(*where), copy=False)
        .group_by(_col("k", "g"), copy=False)
    )
    return _verdict(ctx, n.rows, _cte(ctx, f"q{len(ctx.ctes)}", select))


def _period(period: str, d: exp.Expr) -> exp.Expr:
    """A whole day, week (Monday to Sunday) or calendar month, as a running number."""
    if period == "month":
        year = exp.Extract(this=exp.Var(this="YEAR"), expression=d)
        month = exp.Extract(this=exp.Var(this="MONTH"), expression=d.copy())
        return exp.Add(this=exp.Mul(this=year, expression=exp.Literal.number(12)), expression=month)
    days = exp.DateDiff(
        this=d, expression=exp.cast(exp.Literal.string(_EPOCH), exp.DataType.Type.DATE), unit=_DAY
    )
    return exp.IntDiv(this=days, expression=exp.Literal.number(7)) if period == "week" else days


# Days back that surely hold the last N periods (a bound the warehouse prunes by).
_SPAN: dict[str, Callable[[int], int]] = {
    "day": lambda n: n,
    "week": lambda n: 7 * n + 6,
    "month": lambda n: 31 * n + 31,
}


def regularly(n: TypedRegularly, ctx: Context) -> exp.Expr:
    """Distinct whole periods with such a row among the `of_last` before the current."""
    d = column(n.rows.time_column, _R)
    current = _period(n.period, ctx.build_date())
    where = [
        *_where(n.rows, ctx),
        exp.GTE(
            this=d.copy(),
            expression=_days_before(ctx, ctx.build_date(), _SPAN[n.period](n.of_last)),
        ),
        exp.Between(
            this=_period(n.period, d.copy()),
            low=exp.Sub(this=current, expression=ctx.add(n.of_last)),
            high=exp.Sub(this=current.copy(), expression=exp.Literal.number(1)),
        ),
    ]
    verdict = exp.GTE(
        this=exp.Count(this=exp.Distinct(expressions=[_period(n.period, d.copy())])),
        expression=ctx.add(n.at_least),
    )
    return _per_object(ctx, n.rows, verdict, where)


BEHAVIOURS: dict[type, Callable[[TypedBehaviour, Context], exp.Expr]] = {
    TypedSequence: sequence,  # type: ignore[dict-item]
    TypedOccurrence: occurrence,  # type: ignore[dict-item]
    TypedStopped: stopped,  # type: ignore[dict-item]
    TypedRestarted: restarted,  # type: ignore[dict-item]
    TypedRegularly: regularly,  # type: ignore[dict-item]
}
