"""Start-up and shutdown every Kafka service repeats: topics, pool, outbox relay."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from faststream import FastStream
from faststream.kafka import KafkaBroker

from segment_runtime.db import Pool, create_pool
from segment_runtime.kafka import ensure_topics, make_broker, watch_consumers, watch_topics
from segment_runtime.logs import configure_logging
from segment_runtime.maintenance import prune_delivered
from segment_runtime.outbox import OutboxRelay
from segment_runtime.supervision import every, supervise

T = TypeVar("T")


@dataclass
class Resources:
    pool: Pool
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def spawn(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a background loop for the life of the process, restarted if it fails."""
        self.tasks.append(asyncio.create_task(supervise(name, loop), name=name))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with suppress(asyncio.CancelledError):
                await task
        await self.pool.close()


async def open_resources(
    name: str, database_url: str, bootstrap: str, broker: KafkaBroker, *, relay: bool = True
) -> Resources:
    await ensure_topics(bootstrap)
    resources = Resources(await create_pool(database_url))
    if relay:

        async def publish(topic: str, value: bytes, key: bytes, headers: dict[str, str]) -> None:
            try:
                await broker.publish(value, topic, key=key, headers=headers)
            except Exception:
                # A restarted broker (the local one keeps nothing) has lost its topics.
                await ensure_topics(bootstrap)
                raise

        outbox = OutboxRelay(resources.pool, publish)
        resources.spawn("outbox-relay", outbox.run)
    resources.spawn(
        "prune", lambda: every(PRUNE_EVERY_S, lambda: prune_delivered(resources.pool, name))
    )
    resources.spawn("topic-watch", lambda: watch_topics(bootstrap))
    resources.spawn("consumer-watch", lambda: watch_consumers(broker))
    return resources


PRUNE_EVERY_S = 600.0


class Slot(Generic[T]):
    """Holds what start-up creates, for handlers declared before start-up runs."""

    def __init__(self) -> None:
        self._value: T | None = None

    def set(self, value: T) -> None:
        self._value = value

    def get(self) -> T:
        if self._value is None:
            raise RuntimeError("used before start-up")
        return self._value


@dataclass
class ServiceProcess:
    """One Kafka service process: its broker, its app and what start-up opens."""

    name: str
    database_url: str
    bootstrap: str
    broker: KafkaBroker
    app: FastStream
    resources: Slot[Resources] = field(default_factory=Slot)

    def on_start(self, wire: Callable[[Resources], None]) -> None:
        """Open topics, pool and outbox relay, then let the service wire its parts."""

        @self.app.on_startup
        async def start() -> None:
            opened = await open_resources(self.name, self.database_url, self.bootstrap, self.broker)
            self.resources.set(opened)
            wire(opened)

        @self.app.on_shutdown
        async def stop() -> None:
            await self.resources.get().close()


def service_process(
    name: str, *, log_level: str, bootstrap: str, database_url: str
) -> ServiceProcess:
    configure_logging(log_level, name)
    broker = make_broker(bootstrap, name)
    return ServiceProcess(name, database_url, bootstrap, broker, FastStream(broker))
