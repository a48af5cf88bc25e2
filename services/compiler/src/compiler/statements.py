"""Membership SQL, and only that: every statement is built from one membership query,
so build, refresh, preview, sample and edit diff can never disagree about who is a
member. Read models over a built member table (reach, members, distributions) are the
gateway's; the job monitor counts a finished table itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from sqlglot import exp

from compiler import tree
from compiler.dialect import DIALECT
from compiler.predicates import Context, ObjectInfo
from compiler.sql import (
    BUILD_DATE_PARAM,
    BUILD_ID_PARAM,
    BUILD_TIME_PARAM,
    ROW_ALIAS,
    RULES_VERSION_PARAM,
    CompiledQuery,
    Target,
    column,
    compiled,
    param,
    table,
)
from compiler.typed import TypedRuleSet, type_rule_set
from contracts.catalog import Catalog, ObjectType, base_catalog
from contracts.limits import UNLIMITED, PlanLimits
from contracts.rules import RuleSet
from contracts.splits import Split
from contracts.warehouse import (
    ENTERED_AT_COLUMN,
    ENTERED_BUILD_COLUMN,
    ENTERED_VERSION_COLUMN,
    EXITED_AT_COLUMN,
    EXITED_BUILD_COLUMN,
    EXITED_VERSION_COLUMN,
    MEMBER_ID_COLUMN,
    OPEN_KEY_COLUMN,
)

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
    splits: Mapping[UUID, Split] | None = None,
) -> Membership:
    """The membership query of a rule set, typed here, or of one already typed (the
    gateway types a request's rules once, to check them, and compiles that tree).
    `splits`: those of the segments it embeds by bucket."""
    typed = (
        rules
        if isinstance(rules, TypedRuleSet)
        else type_rule_set(rules, catalog, limits, splits=splits)
    )
    ctx = Context(target.project, target.dataset)
    obj = typed.object
    info = ObjectInfo(obj.id_column, obj.time_field, obj.table)
    predicate = tree.group(typed.root, ctx, info)
    ctx.nodes.append((typed.root.path, predicate))
    return Membership(obj, ctx, predicate)


def everyone(object_type: str, target: Target, catalog: Catalog | None = None) -> Membership:
    """A segment without rules (the default "All Data"): every object of the type."""
    obj = (catalog or base_catalog()).objects[object_type]
    return Membership(obj, Context(target.project, target.dataset), exp.true())


def _build_time() -> exp.Expr:
    return param(BUILD_TIME_PARAM)


def m_target(m: Membership) -> Target:
    return Target(m.ctx.project, m.ctx.dataset)


def _is_open(alias: str) -> exp.Expr:
    return exp.Is(this=column(EXITED_AT_COLUMN, alias), expression=exp.Null())


def record(m: Membership, log_table: str) -> CompiledQuery:
    """The build, whatever its kind: one MERGE moves the segment's membership log from the
    previous committed membership to today's. Who matches and has no open interval enters
    (an interval opens, stamped with this build); an open interval whose object no longer
    matches closes. One statement, so a build is applied whole or not at all; and run
    again, it finds nothing left to change. Counts and ids are read back by build id.

    Parameters: the build's time, id and rules version (bound at submission)."""
    nxt = exp.Subquery(this=m.members(), alias=exp.TableAlias(this=exp.to_identifier("nxt")))
    stamp = {
        EXITED_AT_COLUMN: _build_time(),
        EXITED_BUILD_COLUMN: param(BUILD_ID_PARAM),
        EXITED_VERSION_COLUMN: param(RULES_VERSION_PARAM),
        OPEN_KEY_COLUMN: exp.Null(),
    }
    merge = exp.Merge(
        this=m_target(m).table(log_table, "cur"),
        using=nxt,
        # Only an open interval has an open key: a closed one never matches.
        on=exp.EQ(this=column(OPEN_KEY_COLUMN, "cur"), expression=column(MEMBER_ID_COLUMN, "nxt")),
        whens=exp.Whens(
            expressions=[
                exp.When(
                    matched=False,
                    source=False,
                    then=exp.Insert(
                        this=exp.Tuple(
                            expressions=[
                                exp.column(c, quoted=True)
                                for c in (
                                    MEMBER_ID_COLUMN,
                                    ENTERED_AT_COLUMN,
                                    ENTERED_BUILD_COLUMN,
                                    ENTERED_VERSION_COLUMN,
                                    OPEN_KEY_COLUMN,
                                )
                            ]
                        ),
                        expression=exp.Tuple(
                            expressions=[
                                column(MEMBER_ID_COLUMN, "nxt"),
                                _build_time(),
                                param(BUILD_ID_PARAM),
                                param(RULES_VERSION_PARAM),
                                column(MEMBER_ID_COLUMN, "nxt"),
                            ]
                        ),
                    ),
                ),
                exp.When(
                    matched=False,
                    source=True,
                    # Closed intervals never match either (no open key): leave them be.
                    condition=_is_open("cur"),
                    then=exp.Update(
                        expressions=[
                            exp.EQ(this=exp.column(c, quoted=True), expression=v)
                            for c, v in stamp.items()
                        ]
                    ),
                ),
            ]
        ),
    )
    return m.compiled(merge, BUILD_TIME_PARAM, BUILD_ID_PARAM, RULES_VERSION_PARAM)


def member_view(target: Target, log_table: str) -> CompiledQuery:
    """The member table reports and campaigns read (`segment_<id>`): a view of the log's
    open intervals, so it equals them by construction and `entered_at` survives edits."""
    select = (
        exp.select(
            column(MEMBER_ID_COLUMN, "l"),
            column(ENTERED_AT_COLUMN, "l"),
            column(ENTERED_BUILD_COLUMN, "l"),
            column(ENTERED_VERSION_COLUMN, "l"),
        )
        .from_(target.table(log_table, "l"))
        .where(_is_open("l"))
    )
    return compiled(select)


def members_query(m: Membership) -> CompiledQuery:
    """Today's members, as a build reads them (validation's dry run)."""
    return m.compiled(m.members())


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


MEMBER_PARAM = "member_id"


def explain(m: Membership) -> CompiledQuery:
    """One object's verdict at every rule node (`n<i>` for `node_paths[i]`, the very
    predicates the build and the node counts use) and, at each condition, the value
    that decided it (`v<j>` for `value_paths[j]`). No row: the object does not exist."""
    columns: list[exp.Expr] = [exp.alias_(m.id(), MEMBER_ID_COLUMN, quoted=True)]
    columns += [
        exp.alias_(expr.copy(), f"n{i}", quoted=True) for i, (_, expr) in enumerate(m.ctx.nodes)
    ]
    columns += [
        exp.alias_(expr.copy(), f"v{j}", quoted=True) for j, (_, expr) in enumerate(m.ctx.values)
    ]
    one = exp.EQ(
        this=exp.Cast(this=m.id(), to=exp.DataType.build("STRING")), expression=param(MEMBER_PARAM)
    )
    compiled = m.compiled(m.base(*columns).where(one, copy=False).limit(1), MEMBER_PARAM)
    return dataclasses.replace(compiled, value_paths=tuple(p for p, _ in m.ctx.values))


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


def edit_diff_sample(m: Membership, current_table: str) -> CompiledQuery:
    """Against the current member table: a few of those who would enter and who would exit
    (up to the sample size of each, in id order), with the object's display columns."""
    cur_id = exp.column(MEMBER_ID_COLUMN, table="cur", quoted=True)
    nxt_id = exp.column(MEMBER_ID_COLUMN, table="nxt", quoted=True)
    change = exp.If(
        this=exp.Is(this=cur_id, expression=exp.Null()),
        true=exp.Literal.string("entered"),
        false=exp.Literal.string("exited"),
    )
    moved = (
        exp.select(
            exp.alias_(exp.func("COALESCE", nxt_id, cur_id.copy()), MEMBER_ID_COLUMN, quoted=True),
            exp.alias_(change, "change", quoted=True),
        )
        .from_(exp.Subquery(this=m.members(), alias=exp.TableAlias(this=exp.to_identifier("nxt"))))
        .join(
            m_target(m).table(current_table, "cur"),
            on=exp.EQ(this=cur_id.copy(), expression=nxt_id.copy()),
            join_type="FULL OUTER",
        )
        .where(
            exp.or_(
                exp.Is(this=cur_id.copy(), expression=exp.Null()),
                exp.Is(this=nxt_id.copy(), expression=exp.Null()),
            )
        )
    )
    d_id = exp.column(MEMBER_ID_COLUMN, table="d", quoted=True)
    d_change = exp.column("change", table="d", quoted=True)
    shown: list[exp.Expr] = [d_change, d_id]
    shown += [column(fd.column, "o") for c in m.object.display_columns if (fd := m.object.field(c))]
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[d_change.copy()],
        order=exp.Order(expressions=[exp.Ordered(this=d_id.copy())]),
    )
    select = (
        exp.select(*shown)
        .from_(exp.Subquery(this=moved, alias=exp.TableAlias(this=exp.to_identifier("d"))))
        .join(
            m_target(m).table(m.object.table, "o"),
            on=exp.EQ(this=column(m.object.id_column, "o"), expression=d_id.copy()),
            join_type="LEFT",
        )
        .where(exp.true())  # BigQuery takes QUALIFY only beside a WHERE, GROUP BY or HAVING
        .qualify(exp.LTE(this=rank, expression=param(SAMPLE_LIMIT_PARAM)))
        .order_by(d_change.copy(), d_id.copy())
    )
    return m.compiled(select, SAMPLE_LIMIT_PARAM)
