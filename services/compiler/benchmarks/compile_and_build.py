"""Benchmark: compile throughput, SQL size, and build/preview time on the emulator.

    uv run python services/compiler/benchmarks/compile_and_build.py              # 100,000
    uv run python services/compiler/benchmarks/compile_and_build.py --scales 100000,1000000

Prints figures; asserts nothing. The emulator runs on a free loopback port and
stops with the script; 1,000,000 customers load about 12 million rows (minutes).
"""

from __future__ import annotations

import argparse
import time
from typing import Any
from uuid import uuid4

from google.cloud import bigquery

from compiler import statements
from compiler.sql import CompiledQuery, Target
from contracts.clock import SYSTEM_CLOCK
from contracts.legacy import from_legacy
from contracts.rules import RuleSet
from contracts.warehouse import dataset_id
from devstack import seeding
from devstack.figures import nearest_rank
from devstack.warehouse import scratch_emulator
from segment_runtime.bigquery import to_query_parameters


def _p(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"type": "property", "field": field, "operator": op, "value": value}


MIX: dict[str, dict[str, Any]] = {
    "one property": {
        "object": "customer",
        "root": {"type": "group", "rules": [_p("age", "gt", 30)]},
    },
    "nested properties": {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                _p("age", "between", [25, 45]),
                {
                    "type": "group",
                    "combinator": "or",
                    "rules": [
                        _p("city", "equals", "Jakarta"),
                        _p("source", "in_list", ["whatsapp", "referral"]),
                        _p("tags", "contains_any", ["vip", "b2b"]),
                    ],
                },
                {"type": "group", "negate": True, "rules": [_p("email_opt_in", "is_false")]},
            ],
        },
    },
    "rfm and metrics": {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                {"type": "metric", "metric": "recency_days", "operator": "lte", "value": 30},
                {
                    "type": "metric",
                    "metric": "frequency",
                    "operator": "gte",
                    "value": 2,
                    "window": {"kind": "previous_days", "days": 180},
                },
                {"type": "metric", "metric": "monetary", "operator": "gte", "value": 500},
            ],
        },
    },
    "events and relations": {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                {
                    "type": "event",
                    "event": "web_conversion",
                    "name": "signup",
                    "operator": "gte",
                    "value": 1,
                    "window": {"kind": "previous_days", "days": 30},
                },
                {
                    "type": "event",
                    "event": "ecommerce",
                    "name": "purchase",
                    "operator": "did_not_perform",
                    "window": {"kind": "previous_days", "days": 30},
                },
                {
                    "type": "relationship",
                    "relation": "tickets",
                    "operator": "gte",
                    "value": 1,
                    "filters": [_p("priority", "in_list", ["high", "urgent"])],
                },
            ],
        },
    },
}
LEGACY = {
    "ruleGroups": [
        {
            "mainOperator": "include",
            "conjunction": "and",
            "segmentObject": "customer",
            "conditionFocus": "property",
            "g0": {"key": "age", "condition": "greater-than", "value": 30},
            "g1": {"key": "city", "condition": "equals", "value": "Jakarta"},
        }
    ]
}


def compile_throughput(seconds: float = 3.0) -> None:
    target = Target("proj", "acct")
    rule_sets = [RuleSet.model_validate(r) for r in MIX.values()]
    print("compile (validate + build + preview), one thread:")
    for name, rule_set in zip(MIX, rule_sets, strict=True):
        m = statements.membership(rule_set, target)
        build = len(statements.record(m, "t_log").sql)
        preview = len(statements.preview(m).sql)
        print(f"  {name:22} SQL chars: build {build:>5}  preview {preview:>5}")
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for rule_set in rule_sets:
            m = statements.membership(rule_set, target)
            statements.record(m, "t_log")
            statements.preview(m)
        from_legacy(LEGACY)
        done += len(rule_sets)
    rate = done / (time.perf_counter() - start)
    print(f"  mix throughput: {rate:,.0f} segments/s")
    # What the compiler service does per build: compile the rules, print one statement.
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for rule_set in rule_sets:
            statements.record(statements.membership(rule_set, target), "t_log")
        done += len(rule_sets)
    rate = done / (time.perf_counter() - start)
    print(f"  build statements (the log's MERGE): {rate:,.0f}/s")


def _timed(client: bigquery.Client, query: CompiledQuery) -> float:
    params = query.bind(today=SYSTEM_CLOCK.today("UTC"))
    config = bigquery.QueryJobConfig(query_parameters=to_query_parameters(params))
    start = time.perf_counter()
    list(client.query(query.sql, job_config=config).result())
    return time.perf_counter() - start


def warehouse_timings(scale: int, repeats: int) -> None:
    with scratch_emulator() as client:
        account = uuid4()
        start = time.perf_counter()
        loaded: list[int] = []
        seeding.seed_warehouse(client, account, scale, keep_rows=False, progress=loaded.append)
        rows = sum(loaded)
        print(f"\n{scale:,} customers: seeded {rows:,} rows in {time.perf_counter() - start:.1f} s")
        target = Target(client.project, dataset_id(account))
        for name, raw in MIX.items():
            m = statements.membership(RuleSet.model_validate(raw), target, seeding.demo_catalog())
            # what a build computes, written to a table (the log's MERGE against the
            # previous members is its own benchmark: job-monitor/benchmarks/membership.py)
            q = statements.members_query(m)
            ctas = CompiledQuery(
                f"CREATE OR REPLACE TABLE `{target.name('bench')}` AS {q.sql}",
                q.params,
                q.runtime_params,
            )
            builds = [_timed(client, ctas) for _ in range(repeats)]
            previews = [_timed(client, statements.preview(m)) for _ in range(repeats)]
            print(
                f"  {name:22} build p50 {_p(builds, 50):6.2f} s   preview p50"
                f" {_p(previews, 50):6.2f} s  p95 {_p(previews, 95):6.2f} s"
                f"   ({repeats} runs, node counts included)"
            )


def _p(values: list[float], pct: int) -> float:
    return nearest_rank(values, pct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="100000", help="customer counts, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    compile_throughput()
    for scale in (int(s) for s in args.scales.split(",") if s):
        warehouse_timings(scale, args.repeats)


if __name__ == "__main__":
    main()
