"""Every statement the platform can send is valid BigQuery, as Google's own analyzer
(ZetaSQL, BigQuery's front end) judges it: build, refresh and its counts, preview with
node counts, sample, edit diff, the report filter, validation (the build statement),
members, reach, distributions and field values. For every field x operator of the
catalog, the golden inputs and the hypothesis rule trees; zero rejections. A rejection
fails with the statement and the analyzer's message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from bigquery_analyzer import Analyzer, RejectedError, zetasql_server
from compiler import statements
from compiler.sql import (
    BUILD_ID_PARAM,
    BUILD_TIME_PARAM,
    RULES_VERSION_PARAM,
    CompiledQuery,
    Target,
    compiled,
)
from compiler_golden import AGGREGATE_CASES, BEHAVIOUR_CASES, CASES
from contracts.catalog import OPERATORS_BY_TYPE, FieldType
from contracts.rules import RuleSet
from contracts.splits import SplitIn, layout
from contracts.warehouse import LOG_SUFFIX, segment_table
from devstack import demo_data, seeding
from job_monitor.counts import changed_ids_sql, counts_sql
from rule_strategies import RuleSpace
from segment_api.shared import member_queries

PROJECT, DATASET = "proj", "acct_0123456789abcdef0123456789abcdef"
TARGET = Target(PROJECT, DATASET)
BUILD_DATE = date(2026, 6, 30)
BUILD_TIME = datetime(2026, 6, 30, 3, tzinfo=UTC)
# What the callers bind besides the build date and time, each where a statement names it.
VALUES = {
    statements.SAMPLE_LIMIT_PARAM: 5,
    member_queries.PAGE_LIMIT_PARAM: 50,
    member_queries.PAGE_OFFSET_PARAM: 0,
    member_queries.VIEWER_PARAM: "ana",
    BUILD_ID_PARAM: "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44",
    member_queries.CHANGE_BUILD_PARAM: "6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44",
    member_queries.SINCE_PARAM: BUILD_TIME,
    member_queries.UNTIL_PARAM: BUILD_TIME,
    member_queries.AFTER_AT_PARAM: BUILD_TIME,
    member_queries.AFTER_ID_PARAM: "cust_0000007",
    member_queries.AS_OF_PARAM: BUILD_TIME,
    RULES_VERSION_PARAM: 3,
    statements.MEMBER_PARAM: "cust_0000007",
}


def bound(query: CompiledQuery) -> dict[str, Any]:
    named = {k: v for k, v in VALUES.items() if k in query.runtime_params}
    return query.bind(at=BUILD_TIME, today=BUILD_DATE, **named)


EMBEDDED = [uuid4(), uuid4()]
CATALOG = seeding.demo_catalog()


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Analyzer]:
    with zetasql_server() as (stub, features):
        yield Analyzer(stub, features, CATALOG, PROJECT, DATASET)


# A split with a bucket of two ranges (an edited layout): bucket reads and embeddings.
SPLIT = layout(
    SplitIn.model_validate(
        {
            "buckets": [
                {"name": "A", "percent": 40},
                {"name": "B", "percent": 45},
                {"name": "holdout", "percent": 15},
            ]
        }
    ),
    layout(
        SplitIn.model_validate(
            {
                "buckets": [
                    {"name": "A", "percent": 45},
                    {"name": "B", "percent": 45},
                    {"name": "holdout", "percent": 10},
                ]
            }
        )
    ),
)
SPLITS = {EMBEDDED[0]: SPLIT}


def statement_set(rules: RuleSet) -> Iterator[tuple[str, CompiledQuery]]:
    """What the platform sends for one rule set, named for the failure message."""
    m = statements.membership(rules, TARGET, CATALOG, splits=SPLITS)
    obj = CATALOG.objects[rules.object]
    table = segment_table(uuid4())
    yield "build (the log's MERGE)", statements.record(m, f"{table}{LOG_SUFFIX}")
    yield "validation (members)", statements.members_query(m)
    yield "preview", statements.preview(m)
    yield "sample", statements.sample(m)
    yield "edit diff", statements.edit_diff(m, table)
    yield "edit diff sample", statements.edit_diff_sample(m, table)
    yield "explain a member", statements.explain(m)
    unsaved = exp.Subquery(this=m.members(), alias=exp.TableAlias(this=exp.to_identifier("r")))
    yield (
        "overlap of unsaved rules",
        m.compiled(member_queries.overlap_regions([unsaved, TARGET.table(table)])),
    )
    yield from per_object(obj.name, table)


def per_object(object_name: str, table: str) -> Iterator[tuple[str, CompiledQuery]]:
    obj = CATALOG.objects[object_name]
    log = f"{table}{LOG_SUFFIX}"
    yield "member view", statements.member_view(TARGET, log)
    yield "changes", member_queries.changes_page(obj, TARGET, log)
    every_filter = {"by_build": True, "since": True, "until": True, "after": True}
    for change in ("entered", "exited"):
        yield (
            f"changes ({change}, every filter)",
            member_queries.changes_page(obj, TARGET, log, change=change, **every_filter),
        )
    yield "members as of a build", member_queries.member_page_as_of(obj, TARGET, log)
    if obj.owner_field:
        yield "changes (owned)", member_queries.changes_page(obj, TARGET, log, owned=True)
        yield (
            "members as of (owned)",
            member_queries.member_page_as_of(obj, TARGET, log, owned=True),
        )
        yield "members count as of (owned)", member_queries.member_count_as_of(obj, TARGET, log)
    # the job monitor's, after a build
    read_back = frozenset({BUILD_TIME_PARAM, BUILD_ID_PARAM})
    yield "build counts", CompiledQuery(counts_sql(TARGET.name(log)), {}, read_back)
    yield "build changed ids", CompiledQuery(changed_ids_sql(TARGET.name(log)), {}, read_back)
    yield "members", member_queries.member_page(obj, TARGET, table)
    if obj.owner_field:
        yield "members (owned)", member_queries.member_page(obj, TARGET, table, owned=True)
        yield "members count (owned)", member_queries.owned_member_count(obj, TARGET, table)
    yield "reach", member_queries.reach(obj, TARGET, table)
    for channel in obj.channels:
        yield f"recipients {channel.name}", member_queries.recipients(obj, TARGET, table, channel)
    holdout = member_queries.InBucket(SPLIT, SPLIT.buckets[2])
    yield "bucket counts", member_queries.bucket_counts(TARGET, table, SPLIT)
    yield "holds a member", member_queries.holds(TARGET, table)
    others = [TARGET.table(segment_table(e)) for e in EMBEDDED]
    yield (
        "overlap of tables",
        compiled(member_queries.overlap_regions([TARGET.table(table), *others])),
    )
    yield "members of a bucket", member_queries.member_page(obj, TARGET, table, bucket=holdout)
    yield "reach of a bucket", member_queries.reach(obj, TARGET, table, holdout)
    for channel in obj.channels:
        yield (
            f"recipients {channel.name} of a bucket",
            member_queries.recipients(obj, TARGET, table, channel, holdout),
        )
    yield "recipient page", member_queries.recipient_page(TARGET, "recipients_" + "0" * 32)
    yield "row count", member_queries.row_count(TARGET, table)
    f = member_queries.report_filter(TARGET, table, "r", obj.id_column)
    report = (
        f"WITH `{f.cte_name}` AS ({f.cte_sql}) SELECT COUNT(*) AS n"
        f" FROM `{PROJECT}`.`{DATASET}`.`{obj.table}` AS r WHERE {f.predicate_sql}"
    )
    yield "report filter", CompiledQuery(report, {})
    for chart in obj.distributions:
        yield f"distribution {chart.name}", member_queries.distribution(obj, TARGET, table, chart)
    for fd in obj.fields:
        for i, q in enumerate(member_queries.field_values(obj, fd, TARGET)):
            yield f"field values {fd.name} #{i}", q


def check(analyzer: Analyzer, rules: RuleSet) -> None:
    for name, query in statement_set(rules):
        try:
            analyzer.analyze(query.sql, bound(query))
        except RejectedError as exc:
            raise RejectedError(f"{name} of {rules.model_dump_json()}: {exc}") from exc


def _value(field_type: FieldType, operator: str, fd: Any) -> Any:
    """A value the validator accepts for the operator on a field of that type."""
    numbers = {"between": [1, 2.5], "in_list": [1, 2], "not_in_list": [3, 4.5]}
    if operator in ("is_empty", "is_not_empty", "is_true", "is_false"):
        return None
    if operator in ("in_last_days", "more_than_days_ago"):
        return 30
    if field_type is FieldType.NUMBER:
        return numbers.get(operator, 7)
    if field_type is FieldType.DATE:
        return ["2026-01-01", "2026-02-01"] if operator == "between" else "2026-01-01"
    options = list(fd.options) or ["a", "b"]
    if operator in ("in_list", "not_in_list", "contains_any", "contains_all", "contains_none"):
        return options[:2]
    return options[0]


def every_field_and_operator() -> Iterator[Any]:
    for obj in CATALOG.objects.values():
        for fd in obj.fields:
            if fd.references:
                continue  # a join key: rules cannot name it
            for op in OPERATORS_BY_TYPE[fd.type]:
                yield pytest.param(
                    obj.name, fd.name, op.value, id=f"{obj.name}.{fd.name}.{op.value}"
                )


@pytest.mark.parametrize(("object_name", "field", "operator"), list(every_field_and_operator()))
def test_every_field_and_operator_is_valid_bigquery(analyzer, object_name, field, operator):
    fd = CATALOG.objects[object_name].field(field)
    assert fd is not None
    rules = RuleSet.model_validate(
        {
            "object": object_name,
            "root": {
                "type": "group",
                "rules": [
                    {
                        "type": "property",
                        "field": field,
                        "operator": operator,
                        "value": _value(fd.type, operator, fd),
                    }
                ],
            },
        }
    )
    m = statements.membership(rules, TARGET, CATALOG)
    for name, query in (
        ("build", statements.record(m, segment_table(uuid4()) + LOG_SUFFIX)),
        ("preview", statements.preview(m)),
    ):
        try:
            analyzer.analyze(query.sql, bound(query))
        except RejectedError as exc:
            raise RejectedError(f"{name}: {exc}") from exc


def test_every_read_model_statement_of_every_object_is_valid_bigquery(analyzer):
    for obj in CATALOG.objects.values():
        for name, query in per_object(obj.name, segment_table(uuid4())):
            try:
                analyzer.analyze(query.sql, bound(query))
            except RejectedError as exc:
                raise RejectedError(f"{obj.name} {name}: {exc}") from exc


def test_the_analyzer_refuses_what_bigquery_refuses(analyzer):
    """The check can fail: a FLOAT64 column against an ARRAY<INT64> parameter, which the
    emulator runs and BigQuery refuses, is refused here too."""
    sql = (
        f"SELECT 1 FROM `{PROJECT}`.`{DATASET}`.`customers` AS t"
        " WHERE `t`.`lifetime_value` IN UNNEST(@p0)"
    )
    with pytest.raises(RejectedError, match="No matching signature"):
        analyzer.analyze(sql, {"p0": [1, 2]})
    analyzer.analyze(sql, {"p0": [1.0, 2.0]})


GOLDEN = [
    *(tree for tree, *_ in CASES),
    *(tree for tree, _ in AGGREGATE_CASES),
    *BEHAVIOUR_CASES,
    {
        "type": "group",
        "rules": [
            {"type": "segment", "segment_id": str(EMBEDDED[0]), "operator": op, "bucket": "holdout"}
            for op in ("in", "not_in")
        ],
    },
]


@pytest.mark.parametrize("tree", GOLDEN)
def test_every_golden_input_is_valid_bigquery(analyzer, tree):
    check(analyzer, RuleSet.model_validate({"object": "customer", "root": tree}))


@pytest.fixture(scope="module")
def space() -> RuleSpace:
    tables = {
        obj.table: rows
        for obj, rows in demo_data.warehouse(CATALOG, demo_data.Scale(60), seed=5, today=BUILD_DATE)
    }
    return RuleSpace(CATALOG, tables, BUILD_DATE, {"customer": EMBEDDED})


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_generated_rule_trees_are_valid_bigquery(analyzer, space, data):
    obj = CATALOG.objects[data.draw(st.sampled_from(sorted(CATALOG.objects)), label="object")]
    check(analyzer, RuleSet.model_validate(data.draw(space.rule_set(obj), label="rules")))
