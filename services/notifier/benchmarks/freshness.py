"""Freshness: from a job's end in the warehouse to the `done` push a Pusher client receives.

    ./deploy/up     # in another terminal (the slow warehouse is on by default)
    uv run python services/notifier/benchmarks/freshness.py --builds 30

The whole path runs for real: job monitor (long-polling the job's end), outbox,
Kafka, scheduler, Kafka, notifier, soketi, a Pusher-protocol client. The slow
warehouse gives each job a duration and records when it ended; the client notes
when the push arrived (same machine, same clock). Prints p50, p95 and max; asserts
nothing. Bounded: a fixed number of builds, each with a deadline, all on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
from websockets.asyncio.client import connect

from contracts.clock import SYSTEM_CLOCK
from contracts.push import STATUS_EVENT, account_channel
from devstack.config import DEMO_ACCOUNT_ID, StackConfig
from devstack.figures import nearest_rank
from segment_runtime.auth import ALL_ACCESS, issue_token

DEADLINE_S = 60.0


def rules(age: int) -> dict[str, Any]:
    return {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [{"type": "property", "field": "age", "operator": "gt", "value": age}],
        },
    }


async def main(builds: int, job_s: float) -> None:
    cfg = StackConfig()
    if not cfg.slow_warehouse:
        raise SystemExit(
            "run the stack with the slow warehouse (SEGP_SLOW_WAREHOUSE=1, the default)"
        )
    token = issue_token(
        cfg.secrets["jwt_secret"],
        account_id=DEMO_ACCOUNT_ID,
        user_id="bench",
        permissions=ALL_ACCESS,
    )
    api = f"http://127.0.0.1:{cfg.api_port}"
    warehouse = f"http://127.0.0.1:{cfg.slow_warehouse_port}"
    headers = {"Authorization": f"Bearer {token}"}
    arrived: dict[str, datetime] = {}
    seen: dict[str, asyncio.Event] = {}
    async with (
        httpx.AsyncClient(base_url=api, headers=headers, timeout=30) as http,
        httpx.AsyncClient(base_url=warehouse, timeout=10) as faults,
        connect(f"ws://127.0.0.1:{cfg.pusher_port}/app/{cfg.pusher_key}?protocol=7") as ws,
    ):
        hello = json.loads(await ws.recv())
        socket_id = json.loads(hello["data"])["socket_id"]
        channel = account_channel(DEMO_ACCOUNT_ID)
        auth = (
            await http.post(
                "/v1/realtime/pusher/auth", data={"socket_id": socket_id, "channel_name": channel}
            )
        ).json()["auth"]
        await ws.send(
            json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, "auth": auth}})
        )

        async def listen() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("event") != STATUS_EVENT:
                    continue
                push = json.loads(frame["data"])
                if push["state"] == "done":
                    arrived.setdefault(push["segment_id"], SYSTEM_CLOCK.now())
                    seen.setdefault(push["segment_id"], asyncio.Event()).set()

        listener = asyncio.create_task(listen())
        (await faults.put("/_faults", json={"default": {"duration_s": job_s}})).raise_for_status()
        latencies: list[float] = []
        created: list[str] = []
        try:
            for i in range(builds):
                segment = (
                    await http.post(
                        "/v1/segments",
                        json={"name": f"freshness {uuid4().hex[:8]}", "rules": rules(18 + i % 40)},
                    )
                ).json()
                created.append(segment["id"])
                with contextlib.suppress(TimeoutError):
                    done = seen.setdefault(segment["id"], asyncio.Event())
                    await asyncio.wait_for(done.wait(), DEADLINE_S)
                jobs = (await faults.get("/_faults/jobs")).json()
                ended = [
                    datetime.fromisoformat(j["ended_at"])
                    for j in jobs
                    if j["segment"] == UUID(segment["id"]).hex and j["ended_at"]
                ]
                if segment["id"] in arrived and ended:
                    latencies.append((arrived[segment["id"]] - max(ended)).total_seconds() * 1000)
        finally:
            listener.cancel()
            await faults.delete("/_faults")
            for segment_id in created:
                await http.delete(f"/v1/segments/{segment_id}")
    latencies.sort()
    p95 = nearest_rank(latencies, 95)
    print(f"builds {len(latencies)} of {builds} (jobs of {job_s:.1f} s)")
    print(
        f"job end → push received: p50 {nearest_rank(latencies, 50):.0f} ms"
        f"  p95 {p95:.0f} ms  max {latencies[-1]:.0f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--builds", type=int, default=30)
    parser.add_argument("--job-s", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(main(args.builds, args.job_s))
