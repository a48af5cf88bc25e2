"""Benchmark: a 3-step sequence's preview beside a single event condition's, on the
whole local stack, at 1,000,000 customers with 20 events each by default.

    ./deploy/up                        # in another shell
    uv run python services/compiler/benchmarks/behaviour_preview.py --customers 1000000

What a person waits on runs for real: the gateway (token, rules checked and compiled,
the preview's per-node counts) and the local warehouse. A fresh account gets only
customers and their events (`--events` each, dated over the last year, with a mix of
names), so the demo account never joins. Previews alternate between the two rule sets,
each asking for a window one day longer than the last, so none is cached. Prints
p50/p95 of each and the ratio, measured side by side in one run. Asserts nothing;
bounded in count (at most 50 previews each: the gateway allows 120 a minute) and on
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import httpx

from contracts.catalog import CUSTOMER
from contracts.catalog.objects import OBJECT_TYPES
from contracts.clock import SYSTEM_CLOCK
from devstack.config import StackConfig
from devstack.figures import nearest_rank
from devstack.seeding import ensure_account
from devstack.warehouse import create_object_table, load_rows
from segment_runtime.auth import ALL_ACCESS, issue_token
from segment_runtime.bigquery import make_client
from segment_runtime.settings import BigQuerySettings

NAMES = ("download", "add_to_cart", "checkout", "purchase", "signup", "app_opened")
KINDS = ("ecommerce", "web_conversion")


def customers(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"customer_id": f"c{i:07d}", "full_name": f"Customer {i}", "age": 18 + i % 60}


def events(n: int, per: int, today: date, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not a secret
    for i in range(n):
        for j in range(per):
            yield {
                "event_id": f"e{i:07d}{j:02d}",
                "customer_id": f"c{i:07d}",
                "kind": rng.choice(KINDS),
                "event_name": rng.choice(NAMES),
                "event_date": (today - timedelta(days=rng.randrange(365))).isoformat(),
                "value": rng.randrange(1, 500),
            }


def single(days: int) -> dict[str, Any]:
    return {
        "type": "event",
        "event": "ecommerce",
        "name": "purchase",
        "operator": "gte",
        "value": 1,
        "window": {"kind": "previous_days", "days": days},
    }


def sequence(days: int) -> dict[str, Any]:
    step = {"event": "ecommerce"}
    return {
        "type": "sequence",
        "steps": [
            {**step, "name": "add_to_cart"},
            {**step, "name": "checkout", "within_days": 7},
            {**step, "name": "purchase", "within_days": 7},
        ],
        "window": {"kind": "previous_days", "days": days},
    }


async def seed(cfg: StackConfig, n: int, per: int) -> str:
    account = uuid4()
    await ensure_account(cfg.database_url, account, "bench behaviour", "UTC")
    client = make_client(
        BigQuerySettings.model_validate(
            {"BIGQUERY_PROJECT": cfg.bigquery_project, "BIGQUERY_ENDPOINT": cfg.bigquery_endpoint}
        )
    )
    began = time.monotonic()
    today = SYSTEM_CLOCK.today("UTC")  # the account's zone: its build date is this day
    for obj, rows in (
        (CUSTOMER, customers(n)),
        (OBJECT_TYPES["customer_event"], events(n, per, today, 7)),
    ):
        table = create_object_table(client, account, obj)
        await asyncio.to_thread(load_rows, client, table, rows)
    print(f"seeded {n:,} customers and {n * per:,} events in {time.monotonic() - began:.0f} s")
    return issue_token(
        cfg.secrets["jwt_secret"], account_id=account, user_id="bench", permissions=ALL_ACCESS
    )


async def timed(http: httpx.AsyncClient, condition: dict[str, Any]) -> tuple[float, int]:
    rules = {"object": "customer", "root": {"type": "group", "rules": [condition]}}
    began = time.monotonic()
    answer = await http.post("/v1/segments/preview", json={"rules": rules})
    answer.raise_for_status()
    return time.monotonic() - began, int(answer.json()["total_matched"])


async def main(n: int, per: int, runs: int) -> None:
    cfg = StackConfig()
    token = await seed(cfg, n, per)
    api = f"http://127.0.0.1:{cfg.api_port}"
    kinds = {"single event condition": single, "3-step sequence": sequence}
    seconds: dict[str, list[float]] = {k: [] for k in kinds}
    matched: dict[str, int] = {}
    async with httpx.AsyncClient(
        base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=600
    ) as http:
        for i in range(runs):
            for name, make in kinds.items():  # side by side: the same moments of the machine
                took, matched[name] = await timed(http, make(200 + i))
                seconds[name].append(took)
            await asyncio.sleep(1.0)  # under the gateway's preview rate limit
    print(f"{n:,} customers x {per} events, {runs} previews each (uncached), whole stack:")
    for name, values in seconds.items():
        p50, p95 = nearest_rank(values, 50), nearest_rank(values, 95)
        print(f"  {name:24} p50 {p50:6.2f} s  p95 {p95:6.2f} s  ({matched[name]:,} matched)")
    ratio = nearest_rank(sorted(seconds["3-step sequence"]), 95) / nearest_rank(
        sorted(seconds["single event condition"]), 95
    )
    print(f"  p95 ratio, sequence / single event: {ratio:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20, help="events per customer")
    parser.add_argument("--runs", type=int, default=20, help="previews of each (at most 50)")
    args = parser.parse_args()
    if args.customers * args.events > 40_000_000:
        raise SystemExit("at most 40 million event rows")
    asyncio.run(main(args.customers, args.events, min(args.runs, 50)))
