"""The websocket fan-out survives a Redis blip: it says it is down while it is, keeps its
sockets, subscribes again when Redis returns, and the pushes flow again."""

from __future__ import annotations

import asyncio
import contextlib
import json
from uuid import uuid4

from redis.asyncio import Redis

from contracts.messages import BuildStatus
from contracts.push import SegmentStatusPush
from e2e import wait_for
from notifier.adapters import fanout_channel, fanout_message
from notifier.websockets import Hub
from tcp_proxy import TcpProxy


class Socket:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send_text(self, text: str) -> None:
        self.texts.append(text)


async def test_the_fanout_subscribes_again_after_redis_comes_back():
    proxy = TcpProxy(6379)
    await proxy.open()
    prefix, account = f"blip{uuid4().hex[:8]}", uuid4()
    through_proxy = Redis.from_url(
        f"redis://{proxy.url_host}/0", socket_timeout=2, socket_connect_timeout=1
    )
    direct = Redis.from_url("redis://127.0.0.1:6379/0")
    connects = 0

    async def on_connect() -> None:
        nonlocal connects
        connects += 1

    hub = Hub(through_proxy, prefix, on_connect=on_connect, retry_pause_s=0.1)
    socket = Socket()
    hub.join(account.hex, socket, None)  # type: ignore[arg-type]
    task = asyncio.create_task(hub.run())

    async def push_reaches_the_socket() -> None:
        segment = uuid4()
        push = SegmentStatusPush(
            message_id=uuid4(), segment_id=segment, status=BuildStatus.DONE, rules_version=1
        )

        async def arrived() -> bool:
            await direct.publish(fanout_channel(prefix, account), fanout_message(push, None))
            return any(json.loads(t)["segment_id"] == str(segment) for t in socket.texts)

        await wait_for(arrived, timeout_s=10, every_s=0.2)

    try:
        await wait_for(lambda: hub.connected, timeout_s=10)
        await push_reaches_the_socket()
        await proxy.close()
        await wait_for(lambda: not hub.connected, timeout_s=10)
        assert hub.last_error is not None
        await proxy.open()
        await wait_for(lambda: hub.connected, timeout_s=10)
        await push_reaches_the_socket()  # the same socket hears again
        assert connects == 2  # what was owed to Redis is settled on reconnect
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await proxy.close()
        await through_proxy.aclose()
        await direct.aclose()
