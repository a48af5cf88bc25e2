"""Membership SQL, and only that: every statement is built from one membership query,
so build, refresh, preview, sample and edit diff can never disagree about who is a
member. Read models over a built member table (reach, members, distributions) are the
gateway's; the job monitor counts a finished table itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from compiler import predicates
from compiler.dialect import DIALECT
from compiler.predicates import Context, ObjectInfo
from compiler.sql import (
    BUILD_DATE_PARAM,
    BUILD_TIME_PARAM,
    ROW_ALIAS,
    CompiledQuery,
    Target,
    column,
    param,
    table,
)
from compiler.typed import TypedRuleSet, type_rule_set
from contracts.catalog import Catalog, ObjectType, base_catalog
from contracts.limits import UNLIMITED, PlanLimits
from contracts.rules import RuleSet
from contracts.warehouse import ENTERED_AT_COLUMN, MEMBER_ID_COLUMN

SAMPLE_LIMIT_PARAM = "sample_limit"


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
    rules: RuleSet | TypedRuleSet,
    target: Target,
    catalog: Catalog | None = None,
    limits: PlanLimits = UNLIMITED,
) -> Membership:
    """The membership query of a rule set, typed here, or of one already typed (the
    gateway types a request's rules once, to check them, and compiles that tree)."""
    typed = rules if isinstance(rules, TypedRuleSet) else type_rule_set(rules, catalog, limits)
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
    return param(BUILD_TIME_PARAM)


def _member_rows(m: Membership) -> exp.Select:
    return (
        m.base(
            exp.alias_(m.id(), MEMBER_ID_COLUMN, quoted=True),
            exp.alias_(_build_time(), ENTERED_AT_COLUMN, quoted=True),
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
                                exp.column(ENTERED_AT_COLUMN, quoted=True),
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
        .limit(param(SAMPLE_LIMIT_PARAM))
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
