"""The outbox publishes exactly what committed, in order, and marks it."""

from __future__ import annotations

import contextlib
import json
from uuid import uuid4

from contracts.messages import ChangeKind, SegmentChanged, SegmentChangedData
from segment_runtime.idempotency import handle_once
from segment_runtime.outbox import OutboxRelay, enqueue


def message(version: int) -> SegmentChanged:
    return SegmentChanged(
        source="test",
        accountid=uuid4(),
        correlationid=uuid4(),
        data=SegmentChangedData(
            segment_id=uuid4(), change=ChangeKind.UPDATED, rules_version=version
        ),
    )


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, dict, bytes, dict]] = []
        self.fail = fail

    async def __call__(self, topic: str, value: bytes, key: bytes, headers: dict) -> None:
        if self.fail:
            raise OSError("broker down")
        self.sent.append((topic, json.loads(value), key, headers))


async def test_only_committed_messages_are_published_in_order(db):
    first, second, rolled_back = message(1), message(2), message(3)
    async with db.acquire() as conn:
        async with conn.transaction():
            await enqueue(conn, first)
            await enqueue(conn, second)
        with contextlib.suppress(RuntimeError):
            async with conn.transaction():
                await enqueue(conn, rolled_back)
                raise RuntimeError("the change failed")
    recorder = Recorder()
    relay = OutboxRelay(db, recorder)
    assert await relay.drain_once() == 2
    assert await relay.drain_once() == 0  # marked: not sent twice
    assert [SegmentChanged.model_validate(v).id for _, v, _, _ in recorder.sent] == [
        first.id,
        second.id,
    ]
    topic, _, key, headers = recorder.sent[0]
    assert topic == "segment.changed"
    assert key == str(first.data.segment_id).encode()
    assert headers["ce_id"] == str(first.id)


async def test_a_failed_publish_leaves_the_row_for_the_next_attempt(db):
    async with db.acquire() as conn, conn.transaction():
        await enqueue(conn, message(1))
    failing = OutboxRelay(db, Recorder(fail=True))
    try:
        await failing.drain_once()
    except OSError:
        pass
    recorder = Recorder()
    assert await OutboxRelay(db, recorder).drain_once() == 1


async def test_handle_once_runs_an_effect_once_per_consumer(db):
    calls: list[str] = []

    async def effect(conn) -> None:
        calls.append("x")

    message_id = uuid4()
    assert await handle_once(db, "a", message_id, effect)
    assert not await handle_once(db, "a", message_id, effect)
    assert await handle_once(db, "b", message_id, effect)  # another consumer is independent
    assert calls == ["x", "x"]


async def test_handle_once_forgets_a_message_whose_effect_failed(db):
    message_id = uuid4()

    async def boom(conn) -> None:
        raise RuntimeError("dependency down")

    try:
        await handle_once(db, "a", message_id, boom)
    except RuntimeError:
        pass
    ran: list[int] = []

    async def ok(conn) -> None:
        ran.append(1)

    assert await handle_once(db, "a", message_id, ok)
    assert ran == [1]


async def test_the_relay_listens_again_after_the_database_drops_its_connections(db, database_url):
    """With a poll of a minute, only a working LISTEN publishes within the deadline (half
    of that, generous for a loaded machine): after the database terminates the relay's
    connections, it must be listening again."""
    import asyncio

    from e2e import wait_for
    from segment_runtime.db import create_pool
    from segment_runtime.supervision import supervise

    app = f"outbox_blip_{uuid4().hex[:8]}"
    pool = await create_pool(f"{database_url}?application_name={app}")
    recorder = Recorder()
    relay = OutboxRelay(pool, recorder, poll_interval_s=60)
    task = asyncio.create_task(supervise("outbox", relay.run, first_pause_s=0.1))

    async def listeners() -> set[int]:
        async with db.acquire() as conn:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE application_name = $1 AND query LIKE 'LISTEN%'",
                app,
            )
        return {r["pid"] for r in rows}

    async def publish(version: int) -> None:
        async with db.acquire() as conn, conn.transaction():
            await enqueue(conn, message(version))
        await wait_for(lambda: len(recorder.sent) == version, timeout_s=30)

    try:
        before = await wait_for(listeners, timeout_s=30)
        await publish(1)
        async with db.acquire() as conn:
            dropped = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = $1",
                app,
            )
        assert dropped >= 1

        async def listening_again() -> bool:
            # a new backend: the terminated one may linger in pg_stat_activity a moment
            return bool((await listeners()) - before)

        await wait_for(listening_again, timeout_s=30)
        await publish(2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pool.close()


async def test_a_failed_drain_is_tried_again_soon_not_at_the_next_poll(db):
    """The notify that woke a failed drain is spent: waiting for the next poll (a minute
    here) left a committed message unpublished after the database dropped connections."""
    import asyncio

    from e2e import wait_for
    from segment_runtime import outbox

    class FailsOnce(Recorder):
        async def __call__(self, topic: str, value: bytes, key: bytes, headers: dict) -> None:
            if not self.fail:
                self.fail = True
                raise OSError("a dead pooled connection")
            self.sent.append((topic, json.loads(value), key, headers))

    async with db.acquire() as conn, conn.transaction():
        await enqueue(conn, message(1))
    recorder = FailsOnce()
    relay = OutboxRelay(db, recorder, poll_interval_s=60)
    task = asyncio.create_task(relay.run())
    try:
        await wait_for(lambda: len(recorder.sent) == 1, timeout_s=outbox.RETRY_AFTER_FAILURE_S * 10)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_after_a_broker_restart_a_service_sends_its_recent_messages_again(db):
    """What the broker lost is sent again by its sender (consumers take it once, by id):
    only the sender's own messages, only recent ones, in their order."""
    mine = [message(1), message(2)]
    theirs = SegmentChanged.model_validate({**message(3).model_dump(), "source": "other"})
    old = message(4)
    async with db.acquire() as conn, conn.transaction():
        await enqueue(conn, old)
        for m in [*mine, theirs]:
            await enqueue(conn, m)
    relay = OutboxRelay(db, Recorder(), service="test")
    assert await relay.drain_once() == 4
    async with db.acquire() as conn:  # published long before the restart
        await conn.execute(
            "UPDATE outbox SET published_at = now() - interval '1 hour' WHERE id = $1", old.id
        )
    assert await relay.resend_recent(window_s=600) == 2
    again = Recorder()
    assert await OutboxRelay(db, again, service="test").drain_once() == 2
    assert [SegmentChanged.model_validate(v).id for _, v, _, _ in again.sent] == [
        m.id for m in mine
    ]
