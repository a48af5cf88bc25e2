"""Background loops never die silently, and delivery records are pruned by their writers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest
import structlog

from segment_runtime.maintenance import prune_delivered
from segment_runtime.supervision import supervise


async def test_a_failing_loop_is_logged_with_its_cause_and_restarted():
    runs: list[int] = []
    forever = asyncio.Event()

    async def loop() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise ConnectionError(f"broker gone ({len(runs)})")
        await forever.wait()

    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(supervise("relay", loop, first_pause_s=0.01, max_pause_s=0.02))
        for _ in range(200):
            if len(runs) == 3:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(runs) == 3
    failures = [e for e in logs if e["event"] == "background_task_failed"]
    assert [(f["task"], f["restarts"]) for f in failures] == [("relay", 0), ("relay", 1)]
    assert "broker gone (1)" in failures[0]["error"]


async def test_pruning_removes_only_the_services_own_old_rows(db):
    old, fresh, others = uuid4(), uuid4(), uuid4()
    async with db.acquire() as conn:
        await conn.executemany(
            "INSERT INTO processed_messages (consumer, message_id, processed_at)"
            " VALUES ($1, $2, now() - $3::interval)",
            [
                ("compiler", old, timedelta(days=8)),
                ("compiler", fresh, timedelta(days=1)),
                ("scheduler", others, timedelta(days=8)),
            ],
        )
        for message_id, source, age in (
            (old, "compiler", 8),
            (fresh, "compiler", 1),
            (others, "scheduler", 8),
        ):
            await conn.execute(
                "INSERT INTO outbox (id, topic, key, message_type, payload, published_at)"
                " VALUES ($1, 't', 'k', 't', $2, now() - make_interval(days => $3))",
                message_id,
                {"source": source},
                age,
            )
        await conn.execute(
            "INSERT INTO outbox (id, topic, key, message_type, payload)"
            " VALUES ($1, 't', 'k', 't', $2)",
            uuid4(),
            {"source": "compiler"},
        )
    assert await prune_delivered(db, "compiler") == (1, 1)
    async with db.acquire() as conn:
        kept = {
            r["message_id"] for r in await conn.fetch("SELECT message_id FROM processed_messages")
        }
        outbox = await conn.fetch("SELECT id, published_at FROM outbox")
    assert kept == {fresh, others}
    assert len(outbox) == 3  # an unpublished row is never pruned, however old
    assert old not in {r["id"] for r in outbox}


async def test_a_subscriber_left_without_partitions_is_restarted():
    from segment_runtime.kafka import watch_consumers

    class Consumer:
        def __init__(self, partitions: set[str]) -> None:
            self.partitions = partitions

        def assignment(self) -> set[str]:
            return self.partitions

    class Subscriber:
        group_id = "compiler.build.requested"

        def __init__(self, partitions: set[str]) -> None:
            self.consumer: Consumer | None = Consumer(partitions)
            self.restarts = 0

        async def stop(self) -> None:
            self.consumer = None

        async def start(self) -> None:
            self.restarts += 1
            self.consumer = Consumer({"p0"})  # it joins afresh and gets its partitions

    class Broker:
        def __init__(self) -> None:
            self.subscribers = [Subscriber(set()), Subscriber({"p1"})]

    broker = Broker()
    stuck, healthy = broker.subscribers
    watch = asyncio.create_task(watch_consumers(broker, stuck_s=0.05, every_s=0.01))  # type: ignore[arg-type]
    await asyncio.sleep(0.3)
    watch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watch
    assert (stuck.restarts, healthy.restarts) == (1, 0)
