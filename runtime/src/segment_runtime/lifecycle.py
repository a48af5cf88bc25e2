"""Start-up and shutdown every Kafka service repeats: topics, pool, outbox relay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import uvicorn
from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app
from starlette.types import Receive, Scope, Send

from segment_runtime import probes
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
        await self.pool.close()


async def open_resources(
    name: str, database_url: str, bootstrap: str, broker: KafkaBroker, *, relay: bool = True
) -> Resources:
    await ensure_topics(bootstrap)
    resources = Resources(await create_pool(database_url, name=name))
    if relay:

        async def publish(topic: str, value: bytes, key: bytes, headers: dict[str, str]) -> None:
            try:
                await broker.publish(value, topic, key=key, headers=headers)
            except Exception:
                # A restarted broker (the local one keeps nothing) has lost its topics.
                await ensure_topics(bootstrap)
                raise

        outbox = OutboxRelay(resources.pool, publish, service=name)
        resources.spawn("outbox-relay", outbox.run)
    resources.spawn(
        "prune", lambda: every(PRUNE_EVERY_S, lambda: prune_delivered(resources.pool, name))
    )
    resources.spawn(
        "topic-watch",
        lambda: watch_topics(bootstrap, on_recreated=resources.broker_restarted.set),
    )
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
    app: AsgiFastStream
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
    """The broker and its app, which also answers HTTP: /health (alive: the broker
    answers), /ready (and Postgres answers) and /metrics (Prometheus)."""
    configure_logging(log_level, name)
    broker = make_broker(bootstrap, name)
    holder: list[ServiceProcess] = []

    async def ready(scope: Scope, receive: Receive, send: Send) -> None:
        del scope, receive  # any request to /ready is the same question
        checks = {
            "kafka": await probes.kafka(broker),
            "postgres": await probes.postgres(lambda: holder[0].resources.get().pool),
        }
        ok = all(v == "up" for v in checks.values())
        body = json.dumps({"status": "ok" if ok else "unavailable", **checks}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200 if ok else 503,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    app = AsgiFastStream(
        broker,
        asgi_routes=[
            ("/health", make_ping_asgi(broker, timeout=5.0)),
            ("/ready", ready),
            ("/metrics", make_asgi_app()),
        ],
    )
    process = ServiceProcess(name, database_url, bootstrap, broker, app)
    holder.append(process)
    return process


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
