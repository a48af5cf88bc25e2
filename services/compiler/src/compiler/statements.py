"""Every statement is built from one membership query, so build, refresh,
preview, count and edit diff can never disagree about who is a member."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from compiler import predicates
from compiler.dialect import DIALECT
from compiler.predicates import BUILD_DATE_PARAM, ROW_ALIAS, Context, ObjectInfo, column, table
from compiler.typed import type_rule_set
from contracts.catalog import Catalog, Channel, FieldDef, ObjectType, base_catalog
from contracts.limits import UNLIMITED, PlanLimits
from contracts.rules import RuleSet
from contracts.warehouse import MEMBER_ID_COLUMN

# When a build or refresh ran; members who enter get it as their `entered_at`.
BUILD_TIME_PARAM = "build_time"
SAMPLE_LIMIT_PARAM = "sample_limit"
ENTERED_AT = "entered_at"


@dataclass(frozen=True)
class Target:
    """Where the account's data lives: `project.dataset`."""

    project: str
    dataset: str

    def table(self, name: str, alias: str | None = None) -> exp.Table:
        return table(self.project, self.dataset, name, alias)

    def name(self, table_name: str) -> str:
        return f"{self.project}.{self.dataset}.{table_name}"


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: dict[str, Any]
    # Parameters bound at run time rather than compile time (the build date and time).
    runtime_params: frozenset[str] = field(default_factory=frozenset)
    # JSON path of each rule node, in the order of the `n<i>` columns a node count returns.
    node_paths: tuple[str, ...] = ()

    def bind(self, runtime: dict[str, Any]) -> dict[str, Any]:
        missing = self.runtime_params - runtime.keys()
        if missing:
            raise KeyError(f"runtime parameters not bound: {sorted(missing)}")
        return {**self.params, **{k: runtime[k] for k in self.runtime_params}}


@dataclass(frozen=True)
class Membership:
    """The one membership query: the object rows, their joins and the predicate."""

    object: ObjectType
    ctx: Context
    predicate: exp.Expr
    # A tree node has one parent, so each statement needs its own joins, CTEs and
    # predicate; the first statement takes the originals and later ones copy them
    # (copying was a third of compile time, and a build is the only statement).
    _unused: dict[str, bool] = field(
        default_factory=lambda: {"base": True, "where": True}, compare=False, repr=False
    )

    def _take(self, part: str) -> bool:
        first, self._unused[part] = self._unused[part], False
        return first

    def base(self, *columns: exp.Expr) -> exp.Select:
        # Nodes are built directly: the builders' string arguments ("LEFT", a CTE's
        # name) would be parsed again on every statement.
        own = self._take("base")
        select = exp.Select(
            expressions=list(columns),
            **{
                "from_": exp.From(
                    this=table(self.ctx.project, self.ctx.dataset, self.object.table, ROW_ALIAS)
                )
            },
        )
        if self.ctx.joins:
            select.set(
                "joins",
                [
                    exp.Join(
                        this=source if own else source.copy(),
                        on=on if own else on.copy(),
                        side="LEFT",
                    )
                    for source, on in self.ctx.joins
                ],
            )
        if self.ctx.ctes:
            select.set(
                "with_",
                exp.With(
                    expressions=[
                        exp.CTE(
                            this=cte if own else cte.copy(),
                            alias=exp.TableAlias(this=exp.to_identifier(name)),
                        )
                        for name, cte in self.ctx.ctes
                    ]
                ),
            )
        return select

    def where(self) -> exp.Expr:
        return self.predicate if self._take("where") else self.predicate.copy()

    def id(self) -> exp.Expr:
        return column(self.object.id_column)

    def members(self) -> exp.Select:
        return (
            self.base(exp.alias_(self.id(), MEMBER_ID_COLUMN, quoted=True))
            .distinct()
            .where(self.where(), copy=False)
        )

    def compiled(self, tree: exp.Expr, *runtime: str) -> CompiledQuery:
        sql = tree.sql(dialect=DIALECT, copy=False)  # each tree is private to its statement
        names = set(runtime)
        if self.ctx.uses_build_date:
            names.add(BUILD_DATE_PARAM)
        return CompiledQuery(
            sql, dict(self.ctx.params), frozenset(names), tuple(path for path, _ in self.ctx.nodes)
        )


def membership(
    rule_set: RuleSet,
    target: Target,
    catalog: Catalog | None = None,
    limits: PlanLimits = UNLIMITED,
) -> Membership:
    typed = type_rule_set(rule_set, catalog, limits)
    ctx = Context(target.project, target.dataset)
    obj = typed.object
    info = ObjectInfo(obj.id_column, obj.time_field, obj.table)
    predicate = predicates.group(typed.root, ctx, info)
    ctx.nodes.append((typed.root.path, predicate))
    return Membership(obj, ctx, predicate)


def everyone(object_type: str, target: Target, catalog: Catalog | None = None) -> Membership:
    """A segment without rules (the default "All Data"): every object of the type."""
    obj = (catalog or base_catalog()).objects[object_type]
    return Membership(obj, Context(target.project, target.dataset), exp.true())


def _build_time() -> exp.Expr:
    return predicates.param(BUILD_TIME_PARAM)


def _member_rows(m: Membership) -> exp.Select:
    return (
        m.base(
            exp.alias_(m.id(), MEMBER_ID_COLUMN, quoted=True),
            exp.alias_(_build_time(), ENTERED_AT, quoted=True),
        )
        .distinct()
        .where(m.where(), copy=False)
    )


def build_select(m: Membership) -> CompiledQuery:
    """The member table's rows (every member enters now), for a query job that writes
    them to the table with WRITE_TRUNCATE: parameters are documented to work there."""
    return m.compiled(_member_rows(m), BUILD_TIME_PARAM)


def build(m: Membership, table_name: str) -> CompiledQuery:
    """CREATE OR REPLACE the member table with the same rows, for warehouses that do not
    write a query job's destination table (the emulator)."""
    create = exp.Create(
        this=m_target(m).table(table_name), kind="TABLE", replace=True, expression=_member_rows(m)
    )
    return m.compiled(create, BUILD_TIME_PARAM)


def m_target(m: Membership) -> Target:
    return Target(m.ctx.project, m.ctx.dataset)


def refresh(m: Membership, table_name: str) -> CompiledQuery:
    """MERGE the member table with today's members: new ones enter (stamped with the
    build time), ones who no longer match are deleted. Entered = rows stamped with
    this build time; exited = rows the MERGE affected minus those."""
    nxt = exp.Subquery(this=m.members(), alias=exp.TableAlias(this=exp.to_identifier("nxt")))
    cur_id = exp.column(MEMBER_ID_COLUMN, table="cur", quoted=True)
    nxt_id = exp.column(MEMBER_ID_COLUMN, table="nxt", quoted=True)
    merge = exp.Merge(
        this=m_target(m).table(table_name, "cur"),
        using=nxt,
        on=exp.EQ(this=cur_id, expression=nxt_id),
        whens=exp.Whens(
            expressions=[
                exp.When(
                    matched=False,
                    source=False,
                    then=exp.Insert(
                        this=exp.Tuple(
                            expressions=[
                                exp.column(MEMBER_ID_COLUMN, quoted=True),
                                exp.column(ENTERED_AT, quoted=True),
                            ]
                        ),
                        expression=exp.Tuple(expressions=[nxt_id, _build_time()]),
                    ),
                ),
                exp.When(matched=False, source=True, then=exp.var("DELETE")),
            ]
        ),
    )
    return m.compiled(merge, BUILD_TIME_PARAM)


def refresh_counts(target: Target, table_name: str) -> CompiledQuery:
    """After a build or refresh: members now, and how many entered in this run."""
    entered = exp.func(
        "COUNTIF", exp.EQ(this=exp.column(ENTERED_AT, quoted=True), expression=_build_time())
    )
    select = exp.select(
        exp.alias_(exp.Count(this=exp.Star()), "members", quoted=True),
        exp.alias_(entered, "entered", quoted=True),
    ).from_(target.table(table_name))
    return CompiledQuery(select.sql(dialect=DIALECT), {}, frozenset({BUILD_TIME_PARAM}))


def preview(m: Membership) -> CompiledQuery:
    """Matched count, the object base total, and how many objects each rule node
    matches on its own (column `n<i>` for `node_paths[i]`): which rule narrows most."""
    columns: list[exp.Expr] = [
        exp.alias_(exp.func("COUNTIF", m.where()), "matched", quoted=True),
        exp.alias_(exp.Count(this=exp.Star()), "total", quoted=True),
    ]
    columns += [
        exp.alias_(exp.func("COUNTIF", expr.copy()), f"n{i}", quoted=True)
        for i, (_, expr) in enumerate(m.ctx.nodes)
    ]
    return m.compiled(m.base(*columns))


def sample(m: Membership) -> CompiledQuery:
    """A few members with the object's display columns, in a stable order."""
    shown: list[exp.Expr] = [exp.alias_(m.id(), MEMBER_ID_COLUMN, quoted=True)]
    shown += [column(fd.column) for c in m.object.display_columns if (fd := m.object.field(c))]
    select = (
        m.base(*shown)
        .where(m.where(), copy=False)
        .order_by(m.id())
        .limit(predicates.param(SAMPLE_LIMIT_PARAM))
    )
    return m.compiled(select, SAMPLE_LIMIT_PARAM)


def edit_diff(m: Membership, current_table: str) -> CompiledQuery:
    """Against the current member table: how many would enter and exit if saved."""
    cur_id = exp.column(MEMBER_ID_COLUMN, table="cur", quoted=True)
    nxt_id = exp.column(MEMBER_ID_COLUMN, table="nxt", quoted=True)
    select = (
        exp.select(
            exp.alias_(
                exp.func("COUNTIF", exp.Is(this=cur_id, expression=exp.Null())),
                "would_enter",
                quoted=True,
            ),
            exp.alias_(
                exp.func("COUNTIF", exp.Is(this=nxt_id, expression=exp.Null())),
                "would_exit",
                quoted=True,
            ),
        )
        .from_(exp.Subquery(this=m.members(), alias=exp.TableAlias(this=exp.to_identifier("nxt"))))
        .join(
            m_target(m).table(current_table, "cur"),
            on=exp.EQ(this=cur_id, expression=nxt_id),
            join_type="FULL OUTER",
        )
    )
    return m.compiled(select)


@dataclass(frozen=True)
class ReportFilter:
    """A CTE naming the segment's members and a predicate a report query can AND in."""

    cte_name: str
    cte_sql: str
    predicate_sql: str


def report_filter(
    target: Target, table_name: str, report_alias: str, report_id_column: str
) -> ReportFilter:
    name = f"{table_name}_members"
    cte = exp.select(exp.column(MEMBER_ID_COLUMN, quoted=True)).from_(target.table(table_name))
    predicate = exp.In(
        this=exp.column(report_id_column, table=report_alias, quoted=True),
        query=exp.Subquery(this=exp.select(exp.column(MEMBER_ID_COLUMN, quoted=True)).from_(name)),
    )
    return ReportFilter(name, cte.sql(dialect=DIALECT), predicate.sql(dialect=DIALECT))


PAGE_LIMIT_PARAM = "page_limit"
PAGE_OFFSET_PARAM = "page_offset"


def _members_join(obj: ObjectType, target: Target, table_name: str) -> exp.Select:
    member = exp.column(MEMBER_ID_COLUMN, table="m", quoted=True)
    return (
        exp.select()
        .from_(target.table(table_name, "m"), copy=False)
        .join(
            target.table(obj.table, ROW_ALIAS),
            on=exp.EQ(this=column(obj.id_column), expression=member),
            join_type="INNER",
            copy=False,
        )
    )


VIEWER_PARAM = "viewer"


def _owned_by_viewer(obj: ObjectType) -> exp.Expr:
    owner = obj.field(obj.owner_field or "")
    if owner is None:
        raise KeyError(f"{obj.name} has no owner field")
    return exp.EQ(this=column(owner.column), expression=predicates.param(VIEWER_PARAM))


def member_page(
    obj: ObjectType, target: Target, table_name: str, *, owned: bool = False
) -> CompiledQuery:
    """A page of a built segment's members with the object's display columns and the
    CRM frontend's matched-table columns; `owned` keeps those the viewer added."""
    shown: list[exp.Expr] = [exp.alias_(column(obj.id_column), MEMBER_ID_COLUMN, quoted=True)]
    shown += [column(fd.column) for c in obj.display_columns if (fd := obj.field(c))]
    shown += [
        exp.alias_(column(fd.column), name, quoted=True)
        for name, f in obj.matched_columns
        if (fd := obj.field(f)) and name not in obj.display_columns
    ]
    select = _members_join(obj, target, table_name).select(*shown, copy=False)
    if owned:
        select = select.where(_owned_by_viewer(obj), copy=False)
    select = (
        select.order_by(column(obj.id_column), copy=False)
        .limit(predicates.param(PAGE_LIMIT_PARAM), copy=False)
        .offset(predicates.param(PAGE_OFFSET_PARAM), copy=False)
    )
    runtime = {PAGE_LIMIT_PARAM, PAGE_OFFSET_PARAM} | ({VIEWER_PARAM} if owned else set())
    return CompiledQuery(select.sql(dialect=DIALECT, copy=False), {}, frozenset(runtime))


def owned_member_count(obj: ObjectType, target: Target, table_name: str) -> CompiledQuery:
    """How many of a segment's members the viewer added (their customer scope)."""
    select = (
        _members_join(obj, target, table_name)
        .select(exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True), copy=False)
        .where(_owned_by_viewer(obj), copy=False)
    )
    return CompiledQuery(select.sql(dialect=DIALECT, copy=False), {}, frozenset({VIEWER_PARAM}))


def reach(obj: ObjectType, target: Target, table_name: str) -> CompiledQuery:
    """Members, the object base, and per channel the members one may contact there
    (an address present and the channel's consent given)."""
    base = exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(target.table(obj.table)))
    columns: list[exp.Expr] = [
        exp.alias_(exp.Count(this=exp.Star()), "members", quoted=True),
        exp.alias_(base, "base", quoted=True),
    ]
    for channel in obj.channels:
        columns.append(
            exp.alias_(exp.func("COUNTIF", reachable_on(obj, channel)), channel.name, quoted=True)
        )
    select = _members_join(obj, target, table_name).select(*columns, copy=False)
    return CompiledQuery(select.sql(dialect=DIALECT, copy=False), {})


def _address(obj: ObjectType, channel: Channel) -> exp.Expr:
    return column(obj.field(channel.address_field).column)  # type: ignore[union-attr]


def reachable_on(obj: ObjectType, channel: Channel) -> exp.Expr:
    """One may contact the object on the channel: an address, and the channel's consent.
    The reach counts and the recipient lists share it, so they cannot disagree."""
    address = _address(obj, channel)
    consent = column(obj.field(channel.consent_field).column)  # type: ignore[union-attr]
    return exp.and_(
        exp.Not(this=exp.Is(this=address, expression=exp.Null())),
        exp.NEQ(this=address, expression=exp.Literal.string("")),
        exp.Is(this=consent, expression=exp.true()),
    )


RECIPIENT_ADDRESS = "address"


def recipients(obj: ObjectType, target: Target, table_name: str, channel: Channel) -> CompiledQuery:
    """The members reachable on the channel, with their address: a recipient list's rows."""
    select = (
        _members_join(obj, target, table_name)
        .select(
            exp.alias_(column(obj.id_column), MEMBER_ID_COLUMN, quoted=True),
            exp.alias_(_address(obj, channel), RECIPIENT_ADDRESS, quoted=True),
            copy=False,
        )
        .where(reachable_on(obj, channel), copy=False)
    )
    return CompiledQuery(select.sql(dialect=DIALECT, copy=False), {})


def recipient_page(target: Target, list_table: str) -> CompiledQuery:
    """A page of a frozen recipient list, in a stable order."""
    select = (
        exp.select(
            exp.column(MEMBER_ID_COLUMN, quoted=True),
            exp.column(RECIPIENT_ADDRESS, quoted=True),
            copy=False,
        )
        .from_(target.table(list_table), copy=False)
        .order_by(exp.column(MEMBER_ID_COLUMN, quoted=True), copy=False)
        .limit(predicates.param(PAGE_LIMIT_PARAM), copy=False)
        .offset(predicates.param(PAGE_OFFSET_PARAM), copy=False)
    )
    return CompiledQuery(
        select.sql(dialect=DIALECT, copy=False),
        {},
        frozenset({PAGE_LIMIT_PARAM, PAGE_OFFSET_PARAM}),
    )


def row_count(target: Target, table_name: str) -> CompiledQuery:
    select = exp.select(exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True)).from_(
        target.table(table_name)
    )
    return CompiledQuery(select.sql(dialect=DIALECT, copy=False), {})


def field_values(
    obj: ObjectType, field: FieldDef, target: Target, limit: int = 10
) -> tuple[CompiledQuery, CompiledQuery, CompiledQuery]:
    """The field's most common values with their counts, a sample of its distinct values
    (in order), and its number of distinct values; a multi-select's elements count singly."""
    col: exp.Expr = column(field.column)
    source: exp.Expr = target.table(obj.table, ROW_ALIAS)
    if field.repeated:
        item = exp.to_identifier("v")
        source = exp.Unnest(expressions=[col], alias=exp.TableAlias(columns=[item]))
        col = exp.column(item)
        base = (
            exp.select(copy=False)
            .from_(target.table(obj.table, ROW_ALIAS), copy=False)
            .join(source, copy=False)
        )
    else:
        base = exp.select(copy=False).from_(source, copy=False)
    present = exp.Not(this=exp.Is(this=col, expression=exp.Null()))
    popular = (
        base.copy()
        .select(
            exp.alias_(col, "value", quoted=True),
            exp.alias_(exp.Count(this=exp.Star()), "count", quoted=True),
            copy=False,
        )
        .where(present.copy(), copy=False)
        .group_by(col.copy(), copy=False)
        .order_by(
            exp.Ordered(this=exp.column("count", quoted=True), desc=True),
            exp.column("value", quoted=True),
            copy=False,
        )
        .limit(limit, copy=False)
    )
    sample = (
        base.copy()
        .select(exp.alias_(col.copy(), "value", quoted=True), copy=False)
        .distinct()
        .where(present.copy(), copy=False)
        .order_by(exp.column("value", quoted=True), copy=False)
        .limit(limit, copy=False)
    )
    distinct = base.select(
        exp.alias_(
            exp.Count(this=exp.Distinct(expressions=[col.copy()])), "unique_count", quoted=True
        ),
        copy=False,
    )
    return (
        CompiledQuery(popular.sql(dialect=DIALECT, copy=False), {}),
        CompiledQuery(sample.sql(dialect=DIALECT, copy=False), {}),
        CompiledQuery(distinct.sql(dialect=DIALECT, copy=False), {}),
    )


AGE_BANDS: tuple[tuple[str, int | None, int | None], ...] = (
    ("under 18", None, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, None),
)


def _age_band(col: exp.Expr) -> exp.Expr:
    case = exp.Case()
    for label, low, high in AGE_BANDS:
        conditions = [
            c
            for c in (
                exp.GTE(this=col.copy(), expression=exp.Literal.number(low))
                if low is not None
                else None,
                exp.LTE(this=col.copy(), expression=exp.Literal.number(high))
                if high is not None
                else None,
            )
            if c is not None
        ]
        case = case.when(exp.and_(*conditions), exp.Literal.string(label), copy=False)
    return case.else_(exp.Literal.string("unknown"), copy=False)


def distribution(
    obj: ObjectType, target: Target, table_name: str, field_name: str
) -> CompiledQuery:
    """Members counted by one field's value (ages by band), most common first."""
    fd = obj.field(field_name)
    if fd is None:
        raise KeyError(field_name)
    col: exp.Expr = column(fd.column)
    bucket = (
        _age_band(col)
        if field_name == "age"
        else exp.Coalesce(
            this=exp.Cast(this=col, to=exp.DataType.build("STRING")),
            expressions=[exp.Literal.string("unknown")],
        )
    )
    select = (
        _members_join(obj, target, table_name)
        .select(
            exp.alias_(bucket, "bucket", quoted=True),
            exp.alias_(exp.Count(this=exp.Star()), "members", quoted=True),
            copy=False,
        )
        .group_by(exp.column("bucket", quoted=True), copy=False)
        .order_by(
            exp.Ordered(this=exp.column("members", quoted=True), desc=True),
            exp.column("bucket", quoted=True),
            copy=False,
        )
    )
    return CompiledQuery(select.sql(dialect=DIALECT, copy=False), {})
