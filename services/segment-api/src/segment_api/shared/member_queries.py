"""The gateway's read models: queries over a built member table, joined back to the
object rows (members, reach, recipient lists, distributions, a report's filter) and
over the object table (field values). Membership itself is the compiler's; these only
read what a build wrote. Identifiers come from the catalog, values are parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from compiler.splits import bucket_of, in_bucket
from compiler.sql import DIALECT, ROW_ALIAS, CompiledQuery, Target, column, compiled, param
from compiler.statements import MEMBER_PARAM
from contracts.catalog import Band, Channel, Distribution, FieldDef, ObjectType
from contracts.splits import Bucket, Split
from contracts.warehouse import MEMBER_ID_COLUMN


@dataclass(frozen=True)
class InBucket:
    """One bucket of a segment's split: a read of its members only."""

    split: Split
    bucket: Bucket


@dataclass
class _Values:
    """The compile-time parameters a read names (a bucket's seed and slots)."""

    params: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Any) -> exp.Expr:
        name = f"b{len(self.params)}"
        self.params[name] = value
        return param(name)


def _only(select: exp.Select, bucket: InBucket | None, values: _Values) -> exp.Select:
    if bucket is None:
        return select
    member = exp.column(MEMBER_ID_COLUMN, table="m", quoted=True)
    return select.where(in_bucket(member, bucket.split, bucket.bucket, values.add), copy=False)


def _compiled(select: exp.Expr, values: _Values, *runtime: str) -> CompiledQuery:
    query = compiled(select, *runtime)
    return CompiledQuery(query.sql, values.params, query.runtime_params)


def bucket_counts(target: Target, table_name: str, split: Split) -> CompiledQuery:
    """How many members each bucket of the split holds (`bucket`, `n`)."""
    values = _Values()
    member = exp.column(MEMBER_ID_COLUMN, quoted=True)
    named = exp.select(
        exp.alias_(bucket_of(member, split, values.add), "bucket", quoted=True), copy=False
    ).from_(target.table(table_name), copy=False)
    bucket = exp.column("bucket", table="m", quoted=True)
    select = (
        exp.select(bucket, exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True), copy=False)
        .from_(exp.Subquery(this=named, alias=exp.TableAlias(this=exp.to_identifier("m"))))
        .group_by(bucket.copy(), copy=False)
    )
    return _compiled(select, values)


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
    return exp.EQ(this=column(owner.column), expression=param(VIEWER_PARAM))


def member_page(
    obj: ObjectType,
    target: Target,
    table_name: str,
    *,
    owned: bool = False,
    bucket: InBucket | None = None,
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
    values = _Values()
    select = _only(
        _members_join(obj, target, table_name).select(*shown, copy=False), bucket, values
    )
    if owned:
        select = select.where(_owned_by_viewer(obj), copy=False)
    select = (
        select.order_by(column(obj.id_column), copy=False)
        .limit(param(PAGE_LIMIT_PARAM), copy=False)
        .offset(param(PAGE_OFFSET_PARAM), copy=False)
    )
    runtime = {PAGE_LIMIT_PARAM, PAGE_OFFSET_PARAM} | ({VIEWER_PARAM} if owned else set())
    return _compiled(select, values, *runtime)


def owned_member_count(obj: ObjectType, target: Target, table_name: str) -> CompiledQuery:
    """How many of a segment's members the viewer added (their customer scope)."""
    select = (
        _members_join(obj, target, table_name)
        .select(exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True), copy=False)
        .where(_owned_by_viewer(obj), copy=False)
    )
    return compiled(select, VIEWER_PARAM)


def reach(
    obj: ObjectType, target: Target, table_name: str, bucket: InBucket | None = None
) -> CompiledQuery:
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
    values = _Values()
    select = _only(
        _members_join(obj, target, table_name).select(*columns, copy=False), bucket, values
    )
    return _compiled(select, values)


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


def recipients(
    obj: ObjectType,
    target: Target,
    table_name: str,
    channel: Channel,
    bucket: InBucket | None = None,
) -> CompiledQuery:
    """The members reachable on the channel, with their address: a recipient list's rows."""
    values = _Values()
    select = (
        _members_join(obj, target, table_name)
        .select(
            exp.alias_(column(obj.id_column), MEMBER_ID_COLUMN, quoted=True),
            exp.alias_(_address(obj, channel), RECIPIENT_ADDRESS, quoted=True),
            copy=False,
        )
        .where(reachable_on(obj, channel), copy=False)
    )
    return _compiled(_only(select, bucket, values), values)


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
        .limit(param(PAGE_LIMIT_PARAM), copy=False)
        .offset(param(PAGE_OFFSET_PARAM), copy=False)
    )
    return compiled(select, PAGE_LIMIT_PARAM, PAGE_OFFSET_PARAM)


def overlap_regions(sources: list[exp.Expr]) -> exp.Select:
    """Members by the set of sources holding them (`mask`: bit i for sources[i]), `n`
    each. A source is a member table, or a query whose rows are `object_id`s (unsaved
    rules: the caller compiles the tree with their parameters)."""
    member = exp.column(MEMBER_ID_COLUMN, quoted=True)
    tagged: exp.Query | None = None
    for i, source in enumerate(sources):
        one = (
            exp.select(member.copy(), exp.alias_(exp.Literal.number(1 << i), "bit", quoted=True))
            .distinct()
            .from_(source)
        )
        tagged = one if tagged is None else exp.union(tagged, one, distinct=False)
    assert tagged is not None
    per_member = (
        exp.select(
            member.copy(),
            exp.alias_(exp.Sum(this=exp.column("bit", quoted=True)), "mask", quoted=True),
        )
        .from_(exp.Subquery(this=tagged, alias=exp.TableAlias(this=exp.to_identifier("u"))))
        .group_by(member.copy())
    )
    mask = exp.column("mask", table="p", quoted=True)
    return (
        exp.select(mask, exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True))
        .from_(exp.Subquery(this=per_member, alias=exp.TableAlias(this=exp.to_identifier("p"))))
        .group_by(mask.copy())
    )


def holds(target: Target, table_name: str) -> CompiledQuery:
    """Whether the built member table holds one object (`held`)."""
    member = exp.Cast(
        this=exp.column(MEMBER_ID_COLUMN, quoted=True), to=exp.DataType.build("STRING")
    )
    found = exp.func("COUNTIF", exp.EQ(this=member, expression=param(MEMBER_PARAM)))
    select = exp.select(
        exp.alias_(exp.GT(this=found, expression=exp.Literal.number(0)), "held", quoted=True)
    ).from_(target.table(table_name))
    return compiled(select, MEMBER_PARAM)


def row_count(target: Target, table_name: str) -> CompiledQuery:
    select = exp.select(exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True)).from_(
        target.table(table_name)
    )
    return compiled(select)


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
        compiled(popular),
        compiled(sample),
        compiled(distinct),
    )


def _banded(col: exp.Expr, bands: tuple[Band, ...]) -> exp.Expr:
    case = exp.Case()
    for band in bands:
        ends = [
            exp.GTE(this=col.copy(), expression=exp.Literal.number(band.low))
            if band.low is not None
            else None,
            exp.LTE(this=col.copy(), expression=exp.Literal.number(band.high))
            if band.high is not None
            else None,
        ]
        case = case.when(
            exp.and_(*[e for e in ends if e is not None]),
            exp.Literal.string(band.label),
            copy=False,
        )
    return case.else_(exp.Literal.string("unknown"), copy=False)


def distribution(
    obj: ObjectType, target: Target, table_name: str, chart: Distribution
) -> CompiledQuery:
    """Members counted by one field's value (or its band), most common first."""
    fd = obj.field(chart.field)
    if fd is None:
        raise KeyError(chart.field)
    col: exp.Expr = column(fd.column)
    bucket = (
        _banded(col, chart.bands)
        if chart.bands
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
    return compiled(select)


# The membership log, read: a segment's changes (each interval's opening is an entry,
# its closing an exit) and its members as of a past build.
AS_OF_PARAM = "as_of"
CHANGE_BUILD_PARAM = "change_build"
SINCE_PARAM = "since"
UNTIL_PARAM = "until"
AFTER_AT_PARAM = "after_at"
AFTER_ID_PARAM = "after_id"


def _events(target: Target, log_table: str, kind: str) -> exp.Select:
    """One row per entry (an interval's opening) or per exit (its closing)."""
    at, build, version = f"{kind}_at", f"{kind}_build", f"{kind}_version"
    log = target.table(log_table, "l")
    select = exp.select(
        exp.alias_(exp.Literal.string(kind), "change", quoted=True),
        exp.alias_(
            exp.column(MEMBER_ID_COLUMN, table="l", quoted=True), MEMBER_ID_COLUMN, quoted=True
        ),
        exp.alias_(exp.column(at, table="l", quoted=True), "at", quoted=True),
        exp.alias_(exp.column(build, table="l", quoted=True), "build_id", quoted=True),
        exp.alias_(exp.column(version, table="l", quoted=True), "rules_version", quoted=True),
    ).from_(log)
    if kind == "exited":
        select = select.where(
            exp.Not(this=exp.Is(this=exp.column(at, table="l", quoted=True), expression=exp.Null()))
        )
    return select


def changes_page(
    obj: ObjectType,
    target: Target,
    log_table: str,
    *,
    change: str | None = None,
    by_build: bool = False,
    since: bool = False,
    until: bool = False,
    after: bool = False,
    owned: bool = False,
) -> CompiledQuery:
    """Who entered and who left, newest first (then by member id), with the object's
    display columns where the object still exists. Each filter named here adds its
    condition and its parameter; `after` continues from a cursor (time, member id);
    `owned` keeps the objects the viewer added."""
    kinds = [change] if change else ["entered", "exited"]
    union: exp.Query = _events(target, log_table, kinds[0])
    for kind in kinds[1:]:
        union = exp.union(union, _events(target, log_table, kind), distinct=False)
    e = "e"
    e_id = exp.column(MEMBER_ID_COLUMN, table=e, quoted=True)
    e_at = exp.column("at", table=e, quoted=True)
    shown: list[exp.Expr] = [
        exp.column("change", table=e, quoted=True),
        e_id,
        e_at,
        exp.column("build_id", table=e, quoted=True),
        exp.column("rules_version", table=e, quoted=True),
    ]
    shown += [column(fd.column) for c in obj.display_columns if (fd := obj.field(c))]
    conditions: list[exp.Expr] = []
    runtime: set[str] = {PAGE_LIMIT_PARAM}
    if by_build:
        conditions.append(
            exp.EQ(
                this=exp.column("build_id", table=e, quoted=True),
                expression=param(CHANGE_BUILD_PARAM),
            )
        )
        runtime.add(CHANGE_BUILD_PARAM)
    if since:
        conditions.append(exp.GTE(this=e_at.copy(), expression=param(SINCE_PARAM)))
        runtime.add(SINCE_PARAM)
    if until:
        conditions.append(exp.LT(this=e_at.copy(), expression=param(UNTIL_PARAM)))
        runtime.add(UNTIL_PARAM)
    if after:
        conditions.append(
            exp.or_(
                exp.LT(this=e_at.copy(), expression=param(AFTER_AT_PARAM)),
                exp.and_(
                    exp.EQ(this=e_at.copy(), expression=param(AFTER_AT_PARAM)),
                    exp.GT(this=e_id.copy(), expression=param(AFTER_ID_PARAM)),
                ),
            )
        )
        runtime |= {AFTER_AT_PARAM, AFTER_ID_PARAM}
    if owned:
        conditions.append(_owned_by_viewer(obj))
        runtime.add(VIEWER_PARAM)
    select = (
        exp.select(*shown)
        .from_(exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier(e))))
        .join(
            target.table(obj.table, ROW_ALIAS),
            on=exp.EQ(this=column(obj.id_column), expression=e_id.copy()),
            join_type="LEFT",
        )
    )
    if conditions:
        select = select.where(exp.and_(*conditions))
    select = select.order_by(exp.Ordered(this=e_at.copy(), desc=True), e_id.copy()).limit(
        param(PAGE_LIMIT_PARAM)
    )
    return compiled(select, *runtime)


def _as_of(obj: ObjectType, target: Target, log_table: str, owned: bool) -> exp.Select:
    """The members a past build left (the log's intervals open at its time), joined to
    their rows; `owned` keeps the objects the viewer added."""
    entered = exp.column("entered_at", table="l", quoted=True)
    exited = exp.column("exited_at", table="l", quoted=True)
    open_then = (
        exp.select(
            exp.alias_(
                exp.column(MEMBER_ID_COLUMN, table="l", quoted=True), MEMBER_ID_COLUMN, quoted=True
            )
        )
        .from_(target.table(log_table, "l"))
        .where(
            exp.and_(
                exp.LTE(this=entered, expression=param(AS_OF_PARAM)),
                exp.or_(
                    exp.Is(this=exited, expression=exp.Null()),
                    exp.GT(this=exited.copy(), expression=param(AS_OF_PARAM)),
                ),
            )
        )
    )
    member = exp.column(MEMBER_ID_COLUMN, table="m", quoted=True)
    select = (
        exp.select()
        .from_(exp.Subquery(this=open_then, alias=exp.TableAlias(this=exp.to_identifier("m"))))
        .join(
            target.table(obj.table, ROW_ALIAS),
            on=exp.EQ(this=column(obj.id_column), expression=member),
            join_type="LEFT",
        )
    )
    return select.where(_owned_by_viewer(obj)) if owned else select


def member_page_as_of(
    obj: ObjectType, target: Target, log_table: str, *, owned: bool = False
) -> CompiledQuery:
    """A page of the members a past build left, with the display columns."""
    member = exp.column(MEMBER_ID_COLUMN, table="m", quoted=True)
    shown: list[exp.Expr] = [exp.alias_(member, MEMBER_ID_COLUMN, quoted=True)]
    shown += [column(fd.column) for c in obj.display_columns if (fd := obj.field(c))]
    select = (
        _as_of(obj, target, log_table, owned)
        .select(*shown)
        .order_by(member.copy())
        .limit(param(PAGE_LIMIT_PARAM))
        .offset(param(PAGE_OFFSET_PARAM))
    )
    runtime = {AS_OF_PARAM, PAGE_LIMIT_PARAM, PAGE_OFFSET_PARAM}
    return compiled(select, *runtime, *([VIEWER_PARAM] if owned else []))


def member_count_as_of(obj: ObjectType, target: Target, log_table: str) -> CompiledQuery:
    """How many of the members a past build left the viewer added."""
    select = _as_of(obj, target, log_table, owned=True).select(
        exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True)
    )
    return compiled(select, AS_OF_PARAM, VIEWER_PARAM)
