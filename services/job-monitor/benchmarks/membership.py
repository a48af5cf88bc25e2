"""Benchmark: what recording membership changes costs, and how soon they reach a consumer.

    uv run python services/job-monitor/benchmarks/membership.py warehouse --members 1000000
    ./deploy/up        # in another shell (the slow warehouse is on by default), then:
    uv run python services/job-monitor/benchmarks/membership.py stack --members 100000

`warehouse`, on an emulator of its own: a segment of N members whose next build moves
10 % of them (5 % leave, as many enter). Side by side, alternating, in one run:
- the build alone: the members written to a table (what a build was before the log);
- the build with its log: the one MERGE into the segment's log (which holds the N open
  intervals of the previous build), then the job monitor's read-back of the build's
  counts (what the build's end waits for).
Prints the medians and their ratio, and apart, the time to read who moved (the
announcement's work, done after the build's end).

`stack`, against the running local stack (Kafka, every service, the slow warehouse): an
account of its own with N customers, a segment of all of them created through the API,
and a `membership.changed` consumer. Prints when the build's job ended (the warehouse's
record), when the consumer held every one of the N entries, the gap, and the chunks.

Prints figures; asserts nothing. Bounded: fixed sizes and deadlines, 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer
from google.cloud import bigquery

from compiler import statements
from compiler.service.adapters import prepare_membership
from compiler.sql import CompiledQuery, Target
from contracts.clock import SYSTEM_CLOCK
from contracts.rules import RuleSet
from contracts.topics import MEMBERSHIP_CHANGED
from contracts.warehouse import dataset_id, membership_log_table, segment_table
from devstack import seeding
from devstack.config import StackConfig
from devstack.warehouse import create_object_table, scratch_emulator
from job_monitor.counts import BUILD_ID_PARAM, BUILD_TIME_PARAM, changed_ids_sql, counts_sql
from segment_runtime.auth import ALL_ACCESS, issue_token
from segment_runtime.bigquery import make_client, to_query_parameters

DEADLINE_S = 300.0


def rules(lo: int, hi: int) -> RuleSet:
    """Customers whose score is in [lo, hi)."""
    return RuleSet.model_validate(
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [
                    {"type": "property", "field": "age", "operator": "gte", "value": lo},
                    {"type": "property", "field": "age", "operator": "lt", "value": hi},
                ],
            },
        }
    )


def load_customers(client: bigquery.Client, account: Any, n: int) -> None:
    """N customers with an `age` from 0 to 99, loaded as NDJSON in batches."""
    table = create_object_table(client, account, seeding.demo_catalog().objects["customer"])
    rng = random.Random(7)  # noqa: S311 - data, not secrets
    batch = 200_000
    for start in range(0, n, batch):
        rows = "\n".join(
            json.dumps({"customer_id": f"c_{i:08d}", "age": rng.randrange(100)})
            for i in range(start, min(n, start + batch))
        )
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition="WRITE_APPEND",
        )
        client.load_table_from_file(BytesIO(rows.encode()), table, job_config=config).result()


def run(client: bigquery.Client, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    config = bigquery.QueryJobConfig(query_parameters=to_query_parameters(params))
    return [dict(r) for r in client.query(sql, job_config=config).result(page_size=50_000)]


def warehouse(members: int, repeats: int) -> None:
    with scratch_emulator() as client:
        _warehouse(client, members, repeats)


def _warehouse(client: bigquery.Client, members: int, repeats: int) -> None:
    account = uuid4()
    # 90 of every 100 ages are members: N members among N / 0.9 customers.
    customers = members * 10 // 9
    start = time.perf_counter()
    load_customers(client, account, customers)
    print(f"{customers:,} customers loaded in {time.perf_counter() - start:.1f} s")
    target = Target(client.project, dataset_id(account))
    catalog = seeding.demo_catalog()
    segment = uuid4()
    log = membership_log_table(segment)
    prepare_membership(
        client,
        target.name(log),
        target.name(segment_table(segment)),
        statements.member_view(target, log).sql,
    )
    first = statements.record(statements.membership(rules(0, 90), target, catalog), log)
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    run(client, first.sql, first.bind(at=t0, build_id=str(uuid4()), rules_version=1))
    snapshot = target.name("log_snapshot")
    copy = f"CREATE OR REPLACE TABLE `{snapshot}` AS SELECT * FROM `{target.name(log)}`"  # noqa: S608
    run(client, copy, {})
    (row,) = run(client, f"SELECT COUNT(*) AS n FROM `{target.name(log)}`", {})  # noqa: S608
    print(f"previous build: {row['n']:,} open intervals")

    # The next build: ages 85-89 leave, 90-94 enter (a tenth of the members move).
    alone: list[float] = []
    with_log: list[float] = []
    parts: list[tuple[float, float, float]] = []
    moved = 0
    for _ in range(repeats):
        q = statements.members_query(_next_membership(target, catalog))
        ctas = CompiledQuery(
            f"CREATE OR REPLACE TABLE `{target.name('alone')}` AS {q.sql}",
            q.params,
            q.runtime_params,
        )
        start = time.perf_counter()
        run(client, ctas.sql, ctas.bind(at=t0))
        alone.append(time.perf_counter() - start)

        restore = f"CREATE OR REPLACE TABLE `{target.name(log)}` AS SELECT * FROM `{snapshot}`"  # noqa: S608
        run(client, restore, {})
        m = _next_membership(target, catalog)
        merge = statements.record(m, log)
        build, at = uuid4(), datetime(2026, 6, 2, tzinfo=UTC)
        params = {BUILD_ID_PARAM: str(build), BUILD_TIME_PARAM: at}
        start = time.perf_counter()
        run(client, merge.sql, merge.bind(at=at, build_id=str(build), rules_version=2))
        t_merge = time.perf_counter()
        (counted,) = run(client, counts_sql(target.name(log)), params)
        t_counts = time.perf_counter()
        with_log.append(t_counts - start)  # what the build's end waits for
        ids = run(client, changed_ids_sql(target.name(log)), params)  # announced after
        parts.append((t_merge - start, t_counts - t_merge, time.perf_counter() - t_counts))
        moved = len(ids)
        assert counted["entered"] + counted["exited"] == moved
    _report(alone, with_log, parts, moved, members)


def _report(
    alone: list[float],
    with_log: list[float],
    parts: list[tuple[float, float, float]],
    moved: int,
    members: int,
) -> None:
    a, b = statistics.median(alone), statistics.median(with_log)
    print(
        f"the next build moves {moved:,} members ({moved / members:.1%}), {len(alone)} runs each:"
    )
    merge_s, counts_s, ids_s = (statistics.median(p) for p in zip(*parts, strict=True))
    print(f"  build alone (members written to a table)   median {a:6.2f} s")
    print(f"  build with its log (the MERGE, its counts)  median {b:6.2f} s")
    print(f"    of which MERGE {merge_s:.2f} s, counts {counts_s:.2f} s")
    print(f"  ratio {b / a:.2f} (recording the changes adds {b / a - 1:+.0%} to the statement)")
    print(f"  after the build's end, reading who moved for the announcement: {ids_s:.2f} s")


def _next_membership(target: Target, catalog: Any) -> statements.Membership:
    """Ages 0-84 or 90-94."""
    raw = {
        "object": "customer",
        "root": {
            "type": "group",
            "combinator": "or",
            "rules": [
                {"type": "property", "field": "age", "operator": "lt", "value": 85},
                {
                    "type": "group",
                    "rules": [
                        {"type": "property", "field": "age", "operator": "gte", "value": 90},
                        {"type": "property", "field": "age", "operator": "lt", "value": 95},
                    ],
                },
            ],
        },
    }
    return statements.membership(RuleSet.model_validate(raw), target, catalog)


async def stack(members: int) -> None:
    cfg = StackConfig()
    if not cfg.slow_warehouse:
        raise SystemExit(
            "run the stack with the slow warehouse (SEGP_SLOW_WAREHOUSE=1, the default)"
        )
    client = make_client(cfg)
    account = uuid4()
    start = time.perf_counter()
    await asyncio.to_thread(load_customers, client, account, members)
    await seeding.ensure_account(cfg.database_url, account, "membership bench", "UTC")
    print(f"{members:,} customers loaded in {time.perf_counter() - start:.1f} s")
    token = issue_token(
        cfg.secrets["jwt_secret"], account_id=account, user_id="bench", permissions=ALL_ACCESS
    )
    consumer = AIOKafkaConsumer(
        MEMBERSHIP_CHANGED,
        bootstrap_servers=cfg.kafka_bootstrap,
        group_id=f"bench-{uuid4().hex}",
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{cfg.api_port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ) as http:
            created = await http.post(
                "/v1/segments",
                json={
                    "name": "Everyone (bench)",
                    "rules": {
                        "object": "customer",
                        "root": {
                            "type": "group",
                            "rules": [
                                {"type": "property", "field": "age", "operator": "gte", "value": 0}
                            ],
                        },
                    },
                },
            )
            created.raise_for_status()
            segment_id = created.json()["id"]
            shown_done: list[datetime] = []

            async def watch_done() -> None:
                while True:
                    shown = (await http.get(f"/v1/segments/{segment_id}")).json()
                    if shown["build_status"] == "done":
                        shown_done.append(SYSTEM_CLOCK.now())
                        return
                    await asyncio.sleep(0.05)

            watcher = asyncio.create_task(watch_done())
            entered: set[str] = set()
            chunks = size = 0
            last_at = None
            deadline = time.monotonic() + DEADLINE_S
            while len(entered) < members and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for record in records:
                        data = json.loads(record.value)["data"]
                        if data["segment_id"] != segment_id:
                            continue
                        entered.update(data["entered_ids"])
                        chunks += 1
                        size = max(size, len(record.value))
                        last_at = SYSTEM_CLOCK.now()
            await asyncio.wait_for(watcher, DEADLINE_S)
    finally:
        await consumer.stop()
    if not shown_done or last_at is None:
        raise SystemExit(f"the build did not end in {DEADLINE_S:.0f} s")
    done = shown_done[0]
    print(
        f"first build of {members:,} members: done at {done:%H:%M:%S.%f} (the API shows it),"
        f" a consumer held all {len(entered):,} entries at {last_at:%H:%M:%S.%f}"
    )
    print(
        f"  build's end → every entry received: {(last_at - done).total_seconds():.2f} s;"
        f" {chunks} chunks, largest {size / 1024:.0f} KB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    w = sub.add_parser("warehouse", help="recording's cost, side by side, on an emulator")
    w.add_argument("--members", type=int, default=1_000_000)
    w.add_argument("--repeats", type=int, default=3)
    s = sub.add_parser("stack", help="build end → a consumer holds every entry")
    s.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    if args.what == "warehouse":
        warehouse(args.members, args.repeats)
    else:
        asyncio.run(stack(args.members))


if __name__ == "__main__":
    main()
