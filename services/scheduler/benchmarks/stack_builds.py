"""Builds on the whole local stack against their critical path, hop by hop.

    ./deploy/up                        # in another shell (the slow warehouse is on by default)
    uv run python services/scheduler/benchmarks/stack_builds.py --refresh 60,200 --cascade 20

Everything a user waits on runs for real: the gateway, Kafka, the scheduler, the
compiler (submitting into the slow warehouse, whose `jobs.insert` answers at once
and whose jobs run side by side for `--job-s`), the job monitor long-polling each
job's end, Postgres. Each scenario gets a fresh account with its own small dataset,
so the demo account's segments never join a run:

- a refresh run over N segments in `--depth` layers (each above the bottom embeds
  1-3 of the layer below);
- a cascade: a rebuild of one segment with a closure of C ancestors above it.

For each it prints wall time (from the request to the last job's end in the
warehouse), the critical path (the longest chain of job durations through the
embedding graph), their ratio, how many times each segment was built, and each
hop's latency, p50/p95/max over the run's builds:

- plan: the last child's job ends → the parent's `build.requested` (the scheduler);
- submit: `build.requested` → `job.submitted` (Kafka, the compiler, `jobs.insert`);
- start: `job.submitted` → `job.started` (Kafka, the job monitor seeing it run).

With `--previews N`, a person's uncached previews are timed on the idle stack, then
while each run builds, and their p95s are printed side by side.

It also prints what the local warehouse itself adds: the emulator runs one statement
at a time, so a layer's statements queue there (BigQuery runs them side by side).

Event times are the envelopes' own, read off the topics; job times are the slow
warehouse's. One machine, one clock. Asserts nothing; bounded in count and time,
on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

# The same graphs as the scheduler-only benchmark beside this script.
from build_graph import chain_closure, layered_graph

from contracts.clock import SYSTEM_CLOCK
from contracts.topics import BUILD_REQUESTED, JOB_STARTED, JOB_SUBMITTED
from devstack.config import StackConfig
from devstack.figures import nearest_rank
from devstack.seeding import ensure_account, seed_warehouse
from segment_runtime.auth import ALL_ACCESS, issue_token
from segment_runtime.bigquery import make_client
from segment_runtime.settings import BigQuerySettings

DEADLINE_S = 600.0
TOPICS = (BUILD_REQUESTED, JOB_SUBMITTED, JOB_STARTED)
KEEP = False  # --keep: leave the scenario's account and segments, to look at afterwards
PREVIEWS = 0  # --previews N: a person's previews, on the idle stack and during each run


def critical_path(nodes: list[int], embeds: dict[int, list[int]], job_s: float) -> float:
    depth: dict[int, int] = {}

    def level(node: int) -> int:
        if node not in depth:
            depth[node] = 1 + max((level(c) for c in embeds.get(node, [])), default=0)
        return depth[node]

    return job_s * max(level(n) for n in nodes)


def order(n: int, embeds: dict[int, list[int]]) -> list[int]:
    """Children before parents, so every segment can name what it embeds when created."""
    seen: list[int] = []

    def visit(node: int) -> None:
        if node in seen:
            return
        for child in embeds.get(node, []):
            visit(child)
        seen.append(node)

    for node in range(n):
        visit(node)
    return seen


@dataclass
class Events:
    """Envelope times per build id, per topic, read off the topics."""

    at: dict[str, dict[str, datetime]] = field(default_factory=lambda: defaultdict(dict))

    async def follow(self, bootstrap: str, account: UUID, ready: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [
                TopicPartition(topic, p)
                for topic in TOPICS
                for p in sorted(consumer.partitions_for_topic(topic) or {0})
            ]
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            ready.set()
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        event = json.loads(record.value or b"{}")
                        if event.get("accountid") != str(account):
                            continue
                        build = event["data"]["build_id"]
                        when = datetime.fromisoformat(event["time"])
                        self.at[record.topic].setdefault(build, when)
        finally:
            await consumer.stop()


@dataclass
class Scenario:
    name: str
    embeds: dict[int, list[int]]
    nodes: list[int]


@dataclass
class Result:
    name: str
    wall_s: float
    critical_s: float
    builds: Counter[int]
    hops: dict[str, list[float]]
    # The slow warehouse's own figures: how long each statement waited for the emulator
    # (it runs one at a time), and ran there.
    emulator: dict[str, list[float]]
    # A person's preview latencies (ms) on the idle stack, and while the run builds.
    previews: dict[str, list[float]] = field(default_factory=dict)


def rules_for(node: int, embeds: dict[int, list[int]], ids: dict[int, str]) -> dict[str, Any]:
    children = embeds.get(node, [])
    rules: list[dict[str, Any]] = [{"type": "segment", "segment_id": ids[c]} for c in children]
    if not children:
        rules = [{"type": "property", "field": "age", "operator": "gte", "value": 18 + node % 50}]
    return {"object": "customer", "root": {"type": "group", "combinator": "or", "rules": rules}}


async def settle(http: httpx.AsyncClient, ids: dict[int, str]) -> None:
    """Until every segment's first build has ended."""
    deadline = time.monotonic() + DEADLINE_S
    wanted = set(ids.values())
    while time.monotonic() < deadline:
        ended: set[str] = set()
        page = 1
        while True:
            body = (await http.get("/v1/segments", params={"page": page, "per_page": 100})).json()
            ended |= {
                s["id"]
                for s in body["items"]
                if (s.get("build") or {}).get("state")
                not in (None, "requested", "submitted", "running")
            }
            if page * body["per_page"] >= body["total"]:
                break
            page += 1
        if wanted <= ended:
            return
        await asyncio.sleep(0.5)
    raise SystemExit("the segments did not settle in time")


async def new_account(cfg: StackConfig, name: str, customers: int) -> tuple[UUID, str]:
    """A fresh account with its own small dataset, and a token for it."""
    account = uuid4()
    await ensure_account(cfg.database_url, account, name, "UTC")
    client = make_client(
        BigQuerySettings.model_validate(
            {"BIGQUERY_PROJECT": cfg.bigquery_project, "BIGQUERY_ENDPOINT": cfg.bigquery_endpoint}
        )
    )
    await asyncio.to_thread(seed_warehouse, client, account, customers, keep_rows=False)
    token = issue_token(
        cfg.secrets["jwt_secret"], account_id=account, user_id="bench", permissions=ALL_ACCESS
    )
    return account, token


async def create_graph(http: httpx.AsyncClient, scenario: Scenario) -> dict[int, str]:
    ids: dict[int, str] = {}
    for node in order(max(scenario.nodes) + 1, scenario.embeds):
        created = await http.post(
            "/v1/segments",
            json={
                "name": f"{scenario.name} {node}",
                "rules": rules_for(node, scenario.embeds, ids),
            },
        )
        created.raise_for_status()
        ids[node] = created.json()["id"]
    return ids


async def jobs_ended(
    faults: httpx.AsyncClient, hexes: dict[str, int], before: set[str], expected: set[int]
) -> list[dict[str, Any]]:
    """The run's jobs, once every expected segment's job has ended."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        jobs = [
            j
            for j in (await faults.get("/_faults/jobs")).json()
            if j["job_id"] not in before and j["segment"] in hexes
        ]
        ended = {hexes[j["segment"]] for j in jobs if j["ended_at"]}
        if expected <= ended and all(j["ended_at"] for j in jobs):
            return jobs
    raise SystemExit(f"not every build ended in {DEADLINE_S:.0f} s")


def hop_latencies(
    scenario: Scenario, jobs: list[dict[str, Any]], hexes: dict[str, int], events: Events
) -> dict[str, list[float]]:
    end_of = {hexes[j["segment"]]: datetime.fromisoformat(j["ended_at"]) for j in jobs}
    hops: dict[str, list[float]] = {"plan": [], "submit": [], "start": []}
    for job in jobs:
        build = str(UUID(job["job_id"].rsplit("_b", 1)[1]))
        node = hexes[job["segment"]]
        asked = events.at[BUILD_REQUESTED].get(build)
        submitted = events.at[JOB_SUBMITTED].get(build)
        began = events.at[JOB_STARTED].get(build)
        children = [end_of[c] for c in scenario.embeds.get(node, []) if c in end_of]
        if asked and children:
            hops["plan"].append((asked - max(children)).total_seconds() * 1000)
        if asked and submitted:
            hops["submit"].append((submitted - asked).total_seconds() * 1000)
        if submitted and began:
            hops["start"].append((began - submitted).total_seconds() * 1000)
    return hops


async def preview(http: httpx.AsyncClient, n: int) -> float:
    """One preview a person would make; each asks for other rules, so none is cached."""
    rules = {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [{"type": "property", "field": "age", "operator": "gt", "value": n % 90}],
        },
    }
    began = time.monotonic()
    (await http.post("/v1/segments/preview", json={"rules": rules})).raise_for_status()
    return (time.monotonic() - began) * 1000


async def previews_until(http: httpx.AsyncClient, count: int, stop: asyncio.Event) -> list[float]:
    out: list[float] = []
    for n in range(count):
        if stop.is_set():
            break
        out.append(await preview(http, 1000 + n))
        await asyncio.sleep(0.2)
    return out


async def run(cfg: StackConfig, scenario: Scenario, job_s: float, customers: int) -> Result:
    account, token = await new_account(cfg, f"bench {scenario.name}", customers)
    api = f"http://127.0.0.1:{cfg.api_port}"
    warehouse = f"http://127.0.0.1:{cfg.slow_warehouse_port}"
    events = Events()
    async with (
        httpx.AsyncClient(
            base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http,
        httpx.AsyncClient(base_url=warehouse, timeout=30) as faults,
    ):
        # Set up quickly: creation builds take no time.
        (await faults.put("/_faults", json={"default": {"duration_s": 0}})).raise_for_status()
        ids = await create_graph(http, scenario)
        await settle(http, ids)
        hexes = {UUID(v).hex: k for k, v in ids.items()}
        before = {j["job_id"] for j in (await faults.get("/_faults/jobs")).json()}
        (await faults.put("/_faults", json={"default": {"duration_s": job_s}})).raise_for_status()
        idle = [await preview(http, n) for n in range(PREVIEWS)]
        ready = asyncio.Event()
        follower = asyncio.create_task(events.follow(cfg.kafka_bootstrap, account, ready))
        await asyncio.wait_for(ready.wait(), 30)
        ended = asyncio.Event()
        started = SYSTEM_CLOCK.now()
        if scenario.name.startswith("refresh"):
            (await http.post("/v1/segments/refresh-all")).raise_for_status()
        else:
            (await http.post(f"/v1/segments/{ids[0]}/rebuild")).raise_for_status()
        busy = asyncio.create_task(previews_until(http, PREVIEWS, ended))
        try:
            jobs = await jobs_ended(faults, hexes, before, set(scenario.nodes))
            ended.set()
            during = await busy
            await asyncio.sleep(1.0)  # the last job.started events
        finally:
            busy.cancel()
            follower.cancel()
            await faults.delete("/_faults")
            if not KEEP:
                for segment_id in reversed(list(ids.values())):
                    await http.delete(f"/v1/segments/{segment_id}")
    last = max(datetime.fromisoformat(j["ended_at"]) for j in jobs)
    return Result(
        scenario.name,
        (last - started).total_seconds(),
        critical_path(scenario.nodes, scenario.embeds, job_s),
        Counter(hexes[j["segment"]] for j in jobs),
        hop_latencies(scenario, jobs, hexes, events),
        {
            "queued": [j["waited_s"] * 1000 for j in jobs if j.get("waited_s") is not None],
            "ran": [j["ran_s"] * 1000 for j in jobs if j.get("ran_s") is not None],
        },
        {"idle": idle, "during": during} if PREVIEWS else {},
    )


def _line(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name:7} (none)"
    values = sorted(values)
    return (
        f"  {name:7} n={len(values):3}  p50 {statistics.median(values):7.1f} ms"
        f"  p95 {nearest_rank(values, 95):7.1f} ms  max {values[-1]:7.1f} ms"
    )


def report(result: Result) -> None:
    per_segment = Counter(result.builds.values())
    print(
        f"{result.name}: wall {result.wall_s:.2f} s, critical path {result.critical_s:.2f} s,"
        f" ratio {result.wall_s / result.critical_s:.3f};"
        f" builds per segment {dict(sorted(per_segment.items()))}"
    )
    for hop, values in result.hops.items():
        print(_line(hop, values))
    print("  in the local warehouse (one statement at a time):")
    for what, values in result.emulator.items():
        print(_line(what, values))
    if result.previews:
        print("  a person's preview (uncached), on the idle stack and during the run:")
        for when, values in result.previews.items():
            print(_line(when, values))
        idle, during = (sorted(v) for v in result.previews.values())
        if idle and during:
            ratio = nearest_rank(during, 95) / nearest_rank(idle, 95)
            print(f"  preview p95 during / idle: {ratio:.2f}")


async def main(refresh: list[int], depth: int, cascade: list[int], job_s: float, seed: int) -> None:
    cfg = StackConfig()
    if not cfg.slow_warehouse:
        raise SystemExit(
            "run the stack with the slow warehouse (SEGP_SLOW_WAREHOUSE=1, the default)"
        )
    rng = random.Random(seed)  # noqa: S311 - a reproducible graph, not a secret
    scenarios = [
        Scenario(f"refresh {n} in {depth} layers", layered_graph(n, depth, rng), list(range(n)))
        for n in refresh
    ] + [
        Scenario(f"cascade through {n} ancestors", chain_closure(n, rng), list(range(n + 1)))
        for n in cascade
    ]
    print(f"jobs of {job_s:.1f} s each, on the whole local stack")
    for scenario in scenarios:
        report(await run(cfg, scenario, job_s, customers=2_000))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--refresh", default="60", help="segment counts, comma-separated")
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--cascade", default="20", help="ancestor counts, comma-separated")
    parser.add_argument("--job-s", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="leave the segments to inspect")
    parser.add_argument("--previews", type=int, default=0, help="previews idle and during (≤50)")
    args = parser.parse_args()
    KEEP = args.keep
    PREVIEWS = min(args.previews, 50)  # the gateway allows 120 previews a minute
    counts = [int(n) for n in args.refresh.split(",") if n]
    ancestors = [int(n) for n in args.cascade.split(",") if n]
    if max([*counts, *ancestors, 0]) > 500:
        raise SystemExit("at most 500 segments a scenario")
    asyncio.run(main(counts, args.depth, ancestors, args.job_s, args.seed))
