"""Membership with a memory on the real stack: create → edit → refresh → rebuild →
archive/unarchive, with the data changed between builds. After each build, the changes
route, the `membership.changed` records and the member table agree with an independent
count, and entered minus exited over all builds is the member table's size."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import membership_log
import pytest
from aiokafka import AIOKafkaConsumer

from compiler.sql import Target
from contracts.topics import MEMBERSHIP_CHANGED
from contracts.warehouse import dataset_id
from devstack import seeding
from e2e import older_than
from segment_runtime.auth import issue_token

pytestmark = pytest.mark.stack
DEADLINE_S = 120
CUSTOMERS = 80


class Account:
    """An account of its own on the shared stack, so its data can change freely."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.id = uuid4()
        self.client = stack.bigquery()
        self.target = Target(self.client.project, dataset_id(self.id))
        token = issue_token(stack.cfg.secrets["jwt_secret"], account_id=self.id, user_id="owner")
        self.headers = {"Authorization": f"Bearer {token}"}

    async def setup(self) -> None:
        tables = await asyncio.to_thread(
            seeding.seed_warehouse, self.client, self.id, CUSTOMERS, seed=21
        )
        self.ages = {r["customer_id"]: r["age"] for r in tables["customers"]}
        await seeding.ensure_account(
            self.stack.cfg.database_url, self.id, "membership", "Asia/Jakarta"
        )

    def set_ages(self, ages: dict[str, int]) -> None:
        for customer, age in ages.items():
            membership_log.query(
                self.client,
                f"UPDATE `{self.target.name('customers')}` SET age = @age WHERE customer_id = @id",
                {"age": age, "id": customer},
            )
        self.ages.update(ages)

    def members(self, age: int) -> set[str]:
        return {c for c, a in self.ages.items() if a is not None and a > age}

    async def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.stack.api, headers=self.headers) as http:
            return await http.request(method, path, **kw)

    async def builds(self, segment_id: str) -> list[dict[str, Any]]:
        response = await self.call("GET", f"/v1/segments/{segment_id}/builds")
        assert response.status_code == 200, response.text
        return response.json()

    async def next_build(self, segment_id: str, seen: set[str]) -> dict[str, Any]:
        """The segment's next build after those `seen`, once it has ended."""
        for _ in range(DEADLINE_S * 4):
            fresh = [b for b in await self.builds(segment_id) if b["id"] not in seen]
            if fresh and all(
                b["state"] in ("done", "failed", "canceled", "skipped") for b in fresh
            ):
                (build,) = fresh
                seen.add(build["id"])
                return build
            await asyncio.sleep(0.25)
        raise AssertionError(f"no build of {segment_id} ended: {await self.builds(segment_id)}")

    async def changes(self, segment_id: str, build_id: str) -> tuple[set[str], set[str]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"build_id": build_id, "limit": 17, **({"cursor": cursor} if cursor else {})}
            page = await self.call("GET", f"/v1/segments/{segment_id}/changes", params=params)
            assert page.status_code == 200, page.text
            items += page.json()["items"]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        entered = {i["object_id"] for i in items if i["change"] == "entered"}
        exited = {i["object_id"] for i in items if i["change"] == "exited"}
        assert len(entered) + len(exited) == len(items)  # nobody twice
        return entered, exited

    def table(self, segment_id: str) -> set[str]:
        return membership_log.members(self.client, self.target, f"segment_{UUID(segment_id).hex}")


async def announced(stack, segment_id: str) -> dict[str, dict[str, Any]]:
    """Every build's `membership.changed` chunks for the segment, joined, in topic order."""
    consumer = AIOKafkaConsumer(
        MEMBERSHIP_CHANGED,
        bootstrap_servers=stack.cfg.kafka_bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        group_id=f"test-{uuid4().hex}",
    )
    await consumer.start()
    builds: dict[str, dict[str, Any]] = {}
    chunks: dict[str, list[int]] = defaultdict(list)
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=1500)
            if not batch:
                break
            for records in batch.values():
                for record in records:
                    # Keyed by segment: other tests' records (poison ones too) are not read.
                    if record.key != segment_id.encode():
                        continue
                    data = json.loads(record.value)["data"]
                    build = builds.setdefault(
                        data["build_id"],
                        {"entered": [], "exited": [], "counts": (data["entered"], data["exited"])},
                    )
                    build["entered"] += data["entered_ids"]
                    build["exited"] += data["exited_ids"]
                    build["chunks"] = data["chunks"]
                    chunks[data["build_id"]].append(data["chunk"])
    finally:
        await consumer.stop()
    for build_id, seen in chunks.items():
        assert seen == list(range(builds[build_id]["chunks"])), "chunks in order, each once"
    return builds


async def test_every_build_says_who_entered_and_left_exactly_once(stack):
    account = Account(stack)
    await account.setup()
    seen: set[str] = set()
    rule = 30
    created = await account.call(
        "POST", "/v1/segments", json={"name": "Adults", "rules": older_than(rule)}
    )
    assert created.status_code == 201, created.text
    segment_id = created.json()["id"]
    before: set[str] = set()
    steps: list[tuple[str, dict[str, Any]]] = []
    sets: list[set[str]] = []

    async def check(kind: str, now: set[str]) -> None:
        nonlocal before
        build = await account.next_build(segment_id, seen)
        assert build["state"] == "done", (kind, build)
        entered, exited = now - before, before - now
        assert (build["entered"], build["exited"], build["member_count"]) == (
            len(entered),
            len(exited),
            len(now),
        ), kind
        assert await account.changes(segment_id, build["id"]) == (entered, exited), kind
        assert account.table(segment_id) == now, kind
        steps.append((kind, build))
        sets.append(now)
        before = now

    await check("create", account.members(rule))

    rule = 45
    edited = await account.call(
        "PATCH", f"/v1/segments/{segment_id}", json={"rules": older_than(rule)}
    )
    assert edited.status_code == 200, edited.text
    await check("edit", account.members(rule))

    ids = sorted(account.ages)
    account.set_ages({ids[0]: 90, ids[1]: 90, ids[2]: 20})
    run = await account.call("POST", "/v1/segments/refresh-all")
    assert run.status_code == 202, run.text
    await check("refresh", account.members(rule))

    account.set_ages({ids[3]: 91, ids[0]: 10})
    rebuilt = await account.call("POST", f"/v1/segments/{segment_id}/rebuild")
    assert rebuilt.status_code in (200, 202), rebuilt.text
    await check("rebuild", account.members(rule))

    assert (await account.call("POST", f"/v1/segments/{segment_id}/archive")).status_code == 200
    account.set_ages({ids[4]: 92, ids[5]: 93, ids[3]: 5})
    unarchived = await account.call("POST", f"/v1/segments/{segment_id}/unarchive")
    assert unarchived.status_code == 200, unarchived.text
    await check("unarchive", account.members(rule))

    # The topic: each build's changes once, its chunks in order, builds in build order.
    builds = await announced(stack, segment_id)
    assert list(builds) == [b["id"] for _, b in steps]
    previous: set[str] = set()
    for kind, build in steps:
        told = builds[build["id"]]
        now = (previous | set(told["entered"])) - set(told["exited"])
        assert told["counts"] == (build["entered"], build["exited"]), kind
        assert len(told["entered"]) == build["entered"], kind  # nobody twice
        previous = now
    assert previous == account.table(segment_id)

    # The invariant: entered minus exited over all builds is the member table's size.
    history = await account.builds(segment_id)
    net = sum((b["entered"] or 0) - (b["exited"] or 0) for b in history)
    assert net == len(account.table(segment_id))
    # entered_at survives edits: whoever has been in since the create keeps its stamp
    first_time = datetime.fromisoformat(steps[0][1]["build_time"])
    table = account.target.name(f"segment_{UUID(segment_id).hex}")
    rows = membership_log.query(account.client, f"SELECT object_id, entered_at FROM `{table}`", {})
    stamps = {r["object_id"]: r["entered_at"] for r in rows}
    always = set.intersection(*(members for members in sets))
    assert always
    assert {c for c, at in stamps.items() if at == first_time} == always
