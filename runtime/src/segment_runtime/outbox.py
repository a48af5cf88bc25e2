"""Transactional outbox: a message is written with the change that caused it.

`enqueue` runs inside the caller's transaction, so the message exists exactly
when the change does. The relay publishes unpublished rows in order and marks
them; a crash between publish and mark republishes, which consumers absorb by
message id. Several relays may run (one per service): rows are claimed with
SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from asyncpg.pool import PoolConnectionProxy

from contracts.messages import AnyMessage
from contracts.topics import topic_for
from segment_runtime.db import Connection, Pool
from segment_runtime.kafka import MAX_MESSAGE_BYTES
from segment_runtime.metrics import OUTBOX_AGE, OUTBOX_BACKLOG

log = structlog.get_logger(__name__)

NOTIFY_CHANNEL = "outbox"
# How far back a service re-sends what it published when the broker comes back empty:
# longer than any consumer lags behind its topic.
RESEND_WINDOW_S = 600.0
Publish = Callable[[str, bytes, bytes, dict[str, str]], Awaitable[Any]]


class OversizedMessageError(ValueError):
    """Refused at publish: consumers dead-letter such a record rather than process it."""


async def enqueue(conn: Connection, message: AnyMessage) -> None:
    topic = topic_for(message)
    size = len(message.model_dump_json())
    if size > MAX_MESSAGE_BYTES:
        raise OversizedMessageError(f"{message.type} is {size} bytes (> {MAX_MESSAGE_BYTES})")
    await conn.execute(
        "INSERT INTO outbox (id, topic, key, message_type, payload) VALUES ($1, $2, $3, $4, $5)",
        message.id,
        topic.name,
        topic.key(message),
        message.type,
        message.model_dump(mode="json"),
    )
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)


MEASURE_EVERY_S = 5.0
RETRY_AFTER_FAILURE_S = 0.5


class OutboxRelay:
    def __init__(
        self,
        pool: Pool,
        publish: Publish,
        *,
        batch: int = 100,
        poll_interval_s: float = 1.0,
        service: str = "",
    ) -> None:
        self._service = service
        self._measured = 0.0  # the backlog is counted at most every MEASURE_EVERY_S
        self._pool = pool
        self._publish = publish
        self._batch = batch
        self._poll = poll_interval_s
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Publish until cancelled. A publish or database error is logged and retried at the
        poll interval (rows stay unpublished, so nothing is lost); a lost LISTEN connection
        ends the run, and the supervisor starts it again with a new one."""
        listener: PoolConnectionProxy | None = None
        try:
            listener = await self._pool.acquire()
            lost = asyncio.Event()

            # Told at once when the database drops it (asyncpg then hands the proxy back
            # to the pool, so asking the proxy later would only raise).
            def dropped(_: object) -> None:
                lost.set()
                self._wake.set()

            listener.add_termination_listener(dropped)
            await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
            while True:
                wait = self._poll
                try:
                    while await self.drain_once():
                        pass
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.exception("outbox_publish_failed", error=repr(exc))
                    # Try again soon, not at the next poll or notify: after the database
                    # dropped its connections a pooled one may still be a dead one, and
                    # the notify that woke this drain is spent.
                    wait = min(self._poll, RETRY_AFTER_FAILURE_S)
                if time.monotonic() - self._measured >= MEASURE_EVERY_S:
                    self._measured = time.monotonic()
                    with contextlib.suppress(Exception):  # a gauge is not worth a failure
                        await self._measure()
                if lost.is_set():
                    listener = None  # already back in the pool
                    raise ConnectionError("the outbox LISTEN connection was closed")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                self._wake.clear()
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
                await self._pool.release(listener)

    async def _measure(self) -> None:
        """What is left to publish, and how old its oldest row is (segp_outbox_*)."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT count(*) AS n, extract(epoch FROM now() - min(created_at)) AS age"
                " FROM outbox WHERE published_at IS NULL"
            )
        assert row is not None
        OUTBOX_BACKLOG.labels(self._service).set(row["n"])
        OUTBOX_AGE.labels(self._service).set(float(row["age"] or 0))

    async def resend_recent(self, window_s: float = RESEND_WINDOW_S) -> int:
        """The broker came back empty: what this service published in the last
        `window_s` may never have been read. It goes again, in its order; consumers take
        each message once (by id), so a second copy changes nothing. A service re-sends
        only its own messages (their `source`), so no one has to read another's outbox."""
        async with self._pool.acquire() as conn:
            again = await conn.fetchval(
                "WITH again AS (UPDATE outbox SET published_at = NULL"
                " WHERE published_at > now() - make_interval(secs => $1::float8)"
                " AND payload->>'source' = $2 RETURNING 1) SELECT count(*) FROM again",
                window_s,
                self._service,
            )
        self._wake.set()
        log.warning("outbox_resent_after_broker_restart", service=self._service, messages=again)
        return int(again)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def drain_once(self) -> int:
        """Publish one batch; returns how many rows were published."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT seq, id, topic, key, message_type, payload FROM outbox"
                " WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch,
            )
            for row in rows:
                await self._publish(
                    row["topic"],
                    json.dumps(row["payload"]).encode(),
                    row["key"].encode(),
                    {
                        "content-type": "application/json",
                        "ce_type": row["message_type"],
                        "ce_id": str(row["id"]),
                    },
                )
            if rows:
                await conn.execute(
                    "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])",
                    [r["seq"] for r in rows],
                )
            return len(rows)
