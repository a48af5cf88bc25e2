"""How close the scheduler gets to the critical path: a refresh run and a cascade.

    uv run python services/scheduler/benchmarks/build_graph.py --segments 1000 --depth 5
    uv run python services/scheduler/benchmarks/build_graph.py --cascade 200

The scheduler's real code (BuildOwner) runs on a real, scratch Postgres database;
the compiler and job monitor are simulated: each command the scheduler sends
(read from the outbox, as the relay would) becomes a job that sleeps for its
duration, then reports job.submitted and job.completed. So the figures measure
the scheduler's own planning and bookkeeping, not the warehouse or Kafka (a few
milliseconds a hop on loopback; see the freshness benchmark for the whole path).

Prints wall time, the critical path (the longest chain of job durations through
the embedding graph), their ratio, and builds per segment. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import time
from collections import Counter
from uuid import UUID, uuid4

from contracts.messages import (
    BuildMode,
    JobCompleted,
    JobCompletedData,
    JobOutcome,
    JobSubmitted,
    JobSubmittedData,
    PlanBuilds,
    RebuildSegmentsData,
    StartRefreshRunData,
)
from devstack.database import scratch_database
from scheduler.builds import BuildOwner
from segment_runtime.db import Pool, create_pool
from segment_runtime.logs import configure_logging


def layered_graph(n: int, depth: int, rng: random.Random) -> dict[int, list[int]]:
    """n segments in `depth` layers; each above the bottom embeds 1-3 of the layer below."""
    layers = [list(range(i, n, depth)) for i in range(depth)]
    embeds: dict[int, list[int]] = {}
    for below, layer in itertools.pairwise(layers):
        for node in layer:
            embeds[node] = rng.sample(below, k=min(len(below), rng.randint(1, 3)))
    return embeds


def chain_closure(n: int, rng: random.Random) -> dict[int, list[int]]:
    """Node 0 at the bottom; n ancestors above it, each embedding 1-2 nodes below it."""
    embeds: dict[int, list[int]] = {}
    for node in range(1, n + 1):
        embeds[node] = rng.sample(range(max(0, node - 8), node), k=min(node, rng.randint(1, 2)))
    return embeds


def critical_path(
    nodes: list[int], embeds: dict[int, list[int]], duration: dict[int, float]
) -> float:
    finish: dict[int, float] = {}

    def end(node: int) -> float:
        if node not in finish:
            finish[node] = duration[node] + max((end(c) for c in embeds.get(node, [])), default=0)
        return finish[node]

    return max(end(node) for node in nodes)


async def setup(pool: Pool, n: int, embeds: dict[int, list[int]]) -> tuple[UUID, dict[int, UUID]]:
    account = uuid4()
    ids = {i: uuid4() for i in range(n)}
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO accounts (id, name) VALUES ($1, 'bench')", account)
        await conn.copy_records_to_table(
            "segments",
            records=[(ids[i], account, f"s{i}", "customer", "bench") for i in range(n)],
            columns=["id", "account_id", "name", "object_type", "created_by"],
        )
        await conn.copy_records_to_table(
            "segment_embeddings",
            records=[(ids[p], ids[c]) for p, cs in embeds.items() for c in cs],
            columns=["parent_id", "child_id"],
        )
    return account, ids


class SimulatedWorkers:
    """The compiler and the job monitor: every build.requested becomes a job that runs for
    its segment's duration and reports back."""

    def __init__(
        self, pool: Pool, owner: BuildOwner, account: UUID, duration: dict[UUID, float]
    ) -> None:
        self.pool, self.owner, self.account, self.duration = pool, owner, account, duration
        self.seq = 0
        self.jobs: list[asyncio.Task[None]] = []
        self.started: Counter[UUID] = Counter()

    async def pump(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            async with self.pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT seq, payload FROM outbox WHERE topic = 'build.requested' AND seq > $1"
                    " ORDER BY seq",
                    self.seq,
                )
            for row in rows:
                self.seq = row["seq"]
                self.jobs.append(asyncio.create_task(self.job(row["payload"]["data"])))
            await asyncio.sleep(0.005)

    async def job(self, command: dict[str, object]) -> None:
        build, segment = UUID(str(command["build_id"])), UUID(str(command["segment_id"]))
        self.started[segment] += 1
        envelope = {"source": "bench", "accountid": self.account, "correlationid": uuid4()}
        common = {"build_id": build, "segment_id": segment, "job_id": f"j{build.hex[:12]}"}
        version = int(str(command["rules_version"]))
        await self.owner.on_job_submitted(
            JobSubmitted(
                **envelope,
                data=JobSubmittedData(
                    **common, mode=BuildMode.REFRESH, rules_version=version, table="p.d.t"
                ),
            )
        )
        await asyncio.sleep(self.duration[segment])
        await self.owner.on_job_completed(
            JobCompleted(
                **envelope,
                data=JobCompletedData(
                    **common, status=JobOutcome.DONE, rules_version=version, member_count=1
                ),
            )
        )


async def run(
    database_url: str, n: int, embeds: dict[int, list[int]], duration: dict[int, float], scope: str
) -> None:
    pool = await create_pool(database_url, max_size=20)
    try:
        account, ids = await setup(pool, n, embeds)
        owner = BuildOwner(pool)
        workers = SimulatedWorkers(pool, owner, account, {ids[i]: d for i, d in duration.items()})
        stop = asyncio.Event()
        pump = asyncio.create_task(workers.pump(stop))
        targets = list(range(n)) if scope == "account" else list(range(1, n))
        start = time.perf_counter()
        await owner.on_plan_builds(
            PlanBuilds(
                source="bench",
                accountid=account,
                correlationid=uuid4(),
                data=StartRefreshRunData(run_id=uuid4())
                if scope == "account"
                else RebuildSegmentsData(segment_ids=[ids[0]]),
            )
        )
        async with pool.acquire() as conn:
            while True:
                still_open = await conn.fetchval(
                    "SELECT count(*) FROM builds WHERE account_id = $1"
                    " AND state IN ('requested', 'submitted', 'running')",
                    account,
                )
                if not still_open and len(workers.started) >= len(targets):
                    break
                await asyncio.sleep(0.02)
        wall = time.perf_counter() - start
        stop.set()
        await pump
        path = critical_path(targets, embeds, duration)
        per_segment = Counter(workers.started[ids[i]] for i in targets)
        print(f"segments {len(targets)}  builds {sum(workers.started.values())}")
        print(f"builds per segment: {dict(sorted(per_segment.items()))}")
        print(
            f"wall {wall:.2f} s  critical path {path:.2f} s  wall / critical path {wall / path:.3f}"
        )
        print(f"job durations: mean {statistics.mean(duration.values()):.2f} s")
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--segments", type=int, default=1000)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--cascade", type=int, default=0, help="ancestors above one segment")
    parser.add_argument("--min-job-s", type=float, default=2.0)
    parser.add_argument("--max-job-s", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    configure_logging("WARNING", "bench")
    rng = random.Random(args.seed)  # noqa: S311 - a reproducible graph, not a secret
    if args.cascade:
        n, embeds, scope = args.cascade + 1, chain_closure(args.cascade, rng), "segments"
    else:
        n, embeds, scope = args.segments, layered_graph(args.segments, args.depth, rng), "account"
    duration = {i: rng.uniform(args.min_job_s, args.max_job_s) for i in range(n)}
    print(f"{'cascade' if args.cascade else 'refresh run'}: {n} segments, seed {args.seed}")
    with scratch_database(args.postgres, "segp_bench") as url:
        asyncio.run(run(url, n, embeds, duration, scope))


if __name__ == "__main__":
    main()
