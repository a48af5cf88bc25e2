"""One way to start every service.

A service is a name, the topics the registry (`contracts.topics`) says it consumes,
and a `wire` function: from what it is given (`Parts`: the pool, the clock, the broker,
and whatever fakes a test passes to the service's own `bootstrap`) it builds the
service's parts and returns a handler for each of those topics and its background loops
(`Wiring`). The process calls `start()` and `stop()`; a test calls `wire_with(parts)`
and drives the broker through FastStream's `TestKafkaBroker`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app
from starlette.types import Receive, Scope, Send

from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.topics import TOPICS
from segment_runtime import probes
from segment_runtime.db import Pool
from segment_runtime.kafka import make_broker, subscribe
from segment_runtime.lifecycle import Resources, open_resources

Handler = Callable[[Any], Awaitable[None]]
Loop = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Parts:
    """What every service is built from; a test gives its own."""

    pool: Pool | None
    clock: Clock = SYSTEM_CLOCK
    # Set when the broker came back without its topics (the local one keeps nothing).
    broker_restarted: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def db(self) -> Pool:
        if self.pool is None:
            raise RuntimeError("this service was started without a database")
        return self.pool


@dataclass
class Wiring:
    """What `wire` made: the handler of each consumed topic, and the loops to run."""

    handlers: dict[str, Handler]
    loops: dict[str, Loop] = field(default_factory=dict)


def consumed_by(service: str) -> tuple[str, ...]:
    """The topics the registry says `service` consumes, in registry order."""
    return tuple(t.name for t in TOPICS.values() if service in t.consumers)


class Service:
    """A service's subscriptions and start-up; `wire` decides everything else."""

    def __init__(
        self,
        name: str,
        wire: Callable[[Parts], Wiring],
        *,
        group: str,
        bootstrap_servers: str,
        database_url: str | None,
        broker: KafkaBroker | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.name = name
        # Its own broker unless given one (a test's, to drive through TestKafkaBroker).
        self.broker = broker or make_broker(bootstrap_servers, name)
        self.topics = consumed_by(name)
        self.clock = clock
        self._wire = wire
        self._bootstrap_servers = bootstrap_servers
        self._database_url = database_url
        self._wiring: Wiring | None = None
        self.resources: Resources | None = None
        for topic in self.topics:
            subscribe(self.broker, topic, group)(self._consumer(topic))

    def _consumer(self, topic: str) -> Handler:
        async def consume(event: Any) -> None:
            await self.wiring.handlers[topic](event)

        # FastStream decodes the message into the handler's annotated type: the registry's.
        consume.__annotations__ = {"event": TOPICS[topic].message, "return": None}
        consume.__name__ = consume.__qualname__ = f"{self.name}_on_{topic}".replace(".", "_")
        return consume

    @property
    def wiring(self) -> Wiring:
        if self._wiring is None:
            raise RuntimeError(f"{self.name}: a message came before start-up wired it")
        return self._wiring

    def wire_with(self, parts: Parts) -> Wiring:
        """Build the service's parts; each consumed topic must get exactly one handler."""
        wiring = self._wire(parts)
        if set(wiring.handlers) != set(self.topics):
            raise RuntimeError(
                f"{self.name}: handlers for {sorted(wiring.handlers)},"
                f" but the registry gives it {sorted(self.topics)}"
            )
        self._wiring = wiring
        return wiring

    async def start(self) -> None:
        """Open topics, pool, outbox relay and watches, wire, and start the loops."""
        resources = await open_resources(
            self.name, self._database_url, self._bootstrap_servers, self.broker
        )
        self.resources = resources
        wiring = self.wire_with(Parts(resources.pool, self.clock, resources.broker_restarted))
        for name, loop in wiring.loops.items():
            resources.spawn(name, loop)

    async def stop(self) -> None:
        if self.resources is not None:
            await self.resources.close()

    def asgi_app(self) -> AsgiFastStream:
        """The process of a Kafka service: consumers, and /health (the broker answers),
        /ready (and Postgres answers) and /metrics (Prometheus) over HTTP."""

        async def ready(scope: Scope, receive: Receive, send: Send) -> None:
            del scope, receive  # any request to /ready is the same question
            checks = {
                "kafka": await probes.kafka(self.broker),
                "postgres": await probes.postgres(lambda: _pool(self.resources)),
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
            self.broker,
            asgi_routes=[
                ("/health", make_ping_asgi(self.broker, timeout=5.0)),
                ("/ready", ready),
                ("/metrics", make_asgi_app()),
            ],
        )
        app.on_startup(self.start)
        app.on_shutdown(self.stop)
        return app


def _pool(resources: Resources | None) -> Pool:
    if resources is None or resources.pool is None:
        raise RuntimeError("not started")
    return resources.pool
