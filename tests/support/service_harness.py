"""Drive one service in memory: its own bootstrap with fakes, FastStream's
TestKafkaBroker in place of Kafka, and the test database. Publish a message on a topic
the service consumes, then look at what it recorded and what it published (its outbox,
sent through the broker the way the relay sends it)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from faststream.kafka import TestKafkaBroker

from contracts.clock import Clock, SystemClock
from contracts.envelope import Envelope
from contracts.topics import TOPICS, topic_for
from segment_runtime.bootstrap import Parts, Service, Wiring
from segment_runtime.db import Pool
from segment_runtime.kafka import message_headers
from segment_runtime.outbox import OutboxRelay


class Harness:
    def __init__(self, service: Service, pool: Pool | None, clock: Clock | None = None) -> None:
        self.service = service
        self.pool = pool
        self.clock = clock or SystemClock()
        self.published: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._test = TestKafkaBroker(service.broker)
        self._tasks: list[asyncio.Task[None]] = []
        # Listen on every topic the service does not consume: whatever it publishes.
        for name in TOPICS:
            if name not in service.topics:
                service.broker.subscriber(name)(self._listener(name))

    def _listener(self, topic: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def heard(body: dict[str, Any]) -> None:
            self.published[topic].append(body)

        heard.__name__ = heard.__qualname__ = f"heard_{topic.replace('.', '_')}"
        return heard

    async def __aenter__(self) -> Harness:
        self.broker = await self._test.__aenter__()
        self.wiring: Wiring = self.service.wire_with(Parts(self.pool, self.clock))
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._test.__aexit__(kind, exc, tb)

    async def publish(self, message: Envelope) -> None:
        """Send `message` on its topic, as another service would."""
        topic = topic_for(message)  # type: ignore[arg-type]
        await self.broker.publish(
            json.loads(message.model_dump_json()),
            topic.name,
            key=topic.key(message).encode(),  # type: ignore[arg-type]
            headers=message_headers(message.type, str(message.id)),  # type: ignore[attr-defined]
        )

    async def relay(self) -> int:
        """Send what the service's outbox holds through the broker; how many were sent."""
        assert self.pool is not None

        async def publish(topic: str, value: bytes, key: bytes, headers: dict[str, str]) -> None:
            await self.broker.publish(json.loads(value), topic, key=key, headers=headers)

        relay = OutboxRelay(self.pool, publish, service=self.service.name)
        sent = 0
        while n := await relay.drain_once():
            sent += n
        return sent

    def run_loop(self, name: str) -> None:
        """Start one of the service's background loops for the rest of the test."""
        self._tasks.append(asyncio.create_task(self.wiring.loops[name]()))


async def eventually(check: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    """Poll `check` (sync or async) until it returns something truthy (a loop works in
    the background)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not (value := await _value(check())):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"not true within {timeout_s:.0f} s")
        await asyncio.sleep(0.02)
    return value


async def _value(result: Any) -> Any:
    return await result if isinstance(result, Awaitable) else result
