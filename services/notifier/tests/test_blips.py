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


def status(n: int) -> SegmentStatusPush:
    return SegmentStatusPush(
        message_id=uuid4(), segment_id=uuid4(), status=BuildStatus.DONE, rules_version=n
    )


async def test_pushes_made_while_redis_is_away_reach_sockets_in_order_when_it_returns():
    """Through a real Redis behind a cut port: pushes sent during the outage are owed, and
    the fan-out's reconnect publishes them, oldest first, to the sockets that stayed."""
    from notifier.adapters import RedisFanout

    proxy = TcpProxy(6379)
    await proxy.open()
    prefix, account = f"owed{uuid4().hex[:8]}", uuid4()
    redis = Redis.from_url(
        f"redis://{proxy.url_host}/0", socket_timeout=1, socket_connect_timeout=1
    )
    fanout = RedisFanout(redis, prefix)
    hub = Hub(redis, prefix, on_connect=fanout.flush, retry_pause_s=0.1)
    fanout.subscribed = lambda: hub.connected
    socket = Socket()
    hub.join(account.hex, socket, None)  # type: ignore[arg-type]
    task = asyncio.create_task(hub.run())
    try:
        await wait_for(lambda: hub.connected, timeout_s=10)
        await fanout.send(account, status(1), None)
        await wait_for(lambda: len(socket.texts) == 1, timeout_s=10)
        await proxy.close()
        await wait_for(lambda: not hub.connected, timeout_s=10)
        for n in (2, 3, 4):
            await fanout.send(account, status(n), None)  # never raises: owed
        assert fanout.owed == 3
        await proxy.open()
        # Redis answers before the subscription is back: a push now stays owed too,
        # behind the others, rather than reaching Redis while nobody listens
        await fanout.send(account, status(5), None)
        await wait_for(lambda: len(socket.texts) == 5, timeout_s=5)
        assert [json.loads(t)["rules_version"] for t in socket.texts] == [1, 2, 3, 4, 5]
        assert fanout.owed == 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await proxy.close()
        await redis.aclose()


async def test_when_more_is_owed_than_kept_every_socket_is_told_to_resync():
    from notifier.adapters import RedisFanout

    class Down:
        up = False
        published: list[tuple[str, str]] = []  # noqa: RUF012 - one test's fake

        async def publish(self, channel: str, message: str) -> None:
            if not self.up:
                from redis.exceptions import ConnectionError as RedisConnectionError

                raise RedisConnectionError("down")
            self.published.append((channel, message))

    redis = Down()
    account = uuid4()
    fanout = RedisFanout(redis, "p", max_owed=2)  # type: ignore[arg-type]
    for n in (1, 2, 3, 4):
        await fanout.send(account, status(n), None)
    redis.up = True
    await fanout.flush()
    channels = [c for c, _ in redis.published]
    assert channels == ["p:ws:all", f"p:ws:{account.hex}", f"p:ws:{account.hex}"]
    resync = json.loads(redis.published[0][1])["push"]
    assert (resync["event"], resync["lost"]) == ("resync", 2)
    kept = [json.loads(m)["push"]["rules_version"] for _, m in redis.published[1:]]
    assert kept == [3, 4]  # the newest are kept, in order

    # a resync reaches every socket of every account
    hub = Hub(redis, "p")  # type: ignore[arg-type]
    a, b = Socket(), Socket()
    hub.join(uuid4().hex, a, None)  # type: ignore[arg-type]
    hub.join(uuid4().hex, b, "ana")  # type: ignore[arg-type]
    await hub._deliver("p:ws:all", redis.published[0][1])
    assert [json.loads(t)["event"] for t in a.texts + b.texts] == ["resync", "resync"]
