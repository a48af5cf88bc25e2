"""Bounded load benchmark for the gateway: list, get, create and preview.

    uv run segctl up            # in another terminal: the platform with demo data
    uv run python services/segment-api/benchmarks/load.py --seconds 10 --concurrency 8

Fixed duration and concurrency, and it refuses any target but 127.0.0.1. Prints p50,
p95, p99 and throughput per route; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit
from uuid import uuid4

import httpx

from devstack.config import DEMO_ACCOUNT_ID, StackConfig
from devstack.figures import nearest_rank
from segment_runtime.auth import ALL_ACCESS, issue_token

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [
            {"type": "property", "field": "age", "operator": "gt", "value": 30},
            {"type": "metric", "metric": "orders_total", "operator": "gte", "value": 1},
        ],
    },
}


def percentile(values: list[float], q: float) -> float:
    return nearest_rank(values, q)


async def run(
    name: str, call: Callable[[], Awaitable[httpx.Response]], seconds: float, concurrency: int
) -> None:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            start = time.perf_counter()
            response = await call()
            latencies.append((time.perf_counter() - start) * 1000)
            errors += response.status_code >= 400

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    print(
        f"{name:8} n={len(latencies):6}  {len(latencies) / seconds:8.1f}/s  "
        f"p50 {percentile(latencies, 50):7.1f} ms  p95 {percentile(latencies, 95):7.1f} ms  "
        f"p99 {percentile(latencies, 99):7.1f} ms  errors {errors}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="gateway URL (127.0.0.1 only)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    cfg = StackConfig()
    url = args.url or f"http://127.0.0.1:{cfg.api_port}"
    if urlsplit(url).hostname != "127.0.0.1":
        raise SystemExit("load tests target 127.0.0.1 only")
    seconds = min(args.seconds, 60.0)
    concurrency = max(1, min(args.concurrency, 32))
    token = issue_token(
        cfg.secrets["jwt_secret"],
        account_id=DEMO_ACCOUNT_ID,
        user_id="load",
        permissions=ALL_ACCESS,
    )
    async with httpx.AsyncClient(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        first = (await http.get("/v1/segments")).json()["items"][0]["id"]
        await run(
            "list", lambda: http.get("/v1/segments", params={"per_page": 20}), seconds, concurrency
        )
        await run("get", lambda: http.get(f"/v1/segments/{first}"), seconds, concurrency)
        await run(
            "create",
            lambda: http.post(
                "/v1/segments", json={"name": f"load {uuid4().hex[:10]}", "rules": RULES}
            ),
            seconds,
            concurrency,
        )
        await run(
            "preview",
            lambda: http.post("/v1/segments/preview", json={"rules": RULES, "sample_size": 5}),
            seconds,
            concurrency,
        )


if __name__ == "__main__":
    asyncio.run(main())
