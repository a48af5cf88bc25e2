"""Start-up and shutdown every Kafka service repeats: topics, pool, outbox relay."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker

from segment_runtime.db import Pool, create_pool
from segment_runtime.kafka import ensure_topics, watch_consumers, watch_topics
from segment_runtime.maintenance import prune_delivered
from segment_runtime.outbox import OutboxRelay
from segment_runtime.supervision import every, supervise


@dataclass
class Resources:
    pool: Pool | None  # None for a service without a database (the notifier)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # Set when the broker came back without its topics (the local one keeps nothing):
    # whatever was in flight on it is lost, and a service may re-drive it at once.
    broker_restarted: asyncio.Event = field(default_factory=asyncio.Event)

    def spawn(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a background loop for the life of the process, restarted if it fails."""
        self.tasks.append(asyncio.create_task(supervise(name, loop), name=name))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with suppress(asyncio.CancelledError):
                await task
        if self.pool is not None:
            await self.pool.close()


async def open_resources(
    name: str, database_url: str | None, bootstrap: str, broker: KafkaBroker
) -> Resources:
    """Topics, the pool, and what every service runs beside its own work: the outbox
    relay and its pruning (with a database), and the topic and consumer watches."""
    await ensure_topics(bootstrap)
    pool = await create_pool(database_url, name=name) if database_url else None
    resources = Resources(pool)
    lost = asyncio.Event()  # the broker came back without what it held
    if pool is not None:

        async def publish(topic: str, value: bytes, key: bytes, headers: dict[str, str]) -> None:
            try:
                await broker.publish(value, topic, key=key, headers=headers)
            except Exception:
                # A restarted broker (the local one keeps nothing) has lost its topics.
                await ensure_topics(bootstrap)
                raise

        outbox = OutboxRelay(pool, publish, service=name)
        resources.spawn("outbox-relay", outbox.run)

        async def resend_after_restarts() -> None:
            while True:
                await lost.wait()
                lost.clear()
                await outbox.resend_recent()

        resources.spawn("outbox-resend", resend_after_restarts)
        resources.spawn("prune", lambda: every(PRUNE_EVERY_S, lambda: prune_delivered(pool, name)))
    resources.spawn(
        "topic-watch",
        lambda: watch_topics(bootstrap, on_recreated=lambda: _told(resources, lost)),
    )
    resources.spawn("consumer-watch", lambda: watch_consumers(broker))
    return resources


PRUNE_EVERY_S = 600.0


def _told(resources: Resources, lost: asyncio.Event) -> None:
    """The broker lost what it held: the service may re-drive its work, and its relay
    sends again what it published lately."""
    resources.broker_restarted.set()
    lost.set()


def serve_http(app: Any, host: str, port: int, *, workers: int = 1) -> None:
    """Run an HTTP service under uvicorn, leaving logging as configure_logging set it.
    With several workers `app` is an import string of an app factory."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=workers > 1,
        log_level="warning",
        log_config=None,
    )


async def serve(app: AsgiFastStream, host: str, port: int) -> None:
    """Run the service: consumers, and the probes on host:port (logging left as set)."""
    await app.run(run_extra_options={"host": host, "port": port, "log_config": None})
