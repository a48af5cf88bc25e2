"""The native websocket endpoint's hub: Redis fan-out in, the account's sockets out.

One Redis subscription per process, whatever the number of sockets. When Redis
goes away the hub says so (`connected`, shown by `/health`), keeps its sockets
and subscribes again as soon as Redis answers; `on_connect` runs each time it
does, so whatever was owed to Redis meanwhile is settled.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import WebSocket
from redis.asyncio import Redis

from notifier.adapters import EVERYONE

log = structlog.get_logger(__name__)

RETRY_PAUSE_S = 1.0


class Hub:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        retry_pause_s: float = RETRY_PAUSE_S,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._on_connect = on_connect
        self._pause = retry_pause_s
        # account hex → socket → whose segments it may hear of (None: the whole account)
        self._sockets: dict[str, dict[WebSocket, str | None]] = defaultdict(dict)
        self.connected = False
        self.last_error: str | None = None

    def join(self, account_hex: str, socket: WebSocket, owner: str | None) -> None:
        self._sockets[account_hex][socket] = owner

    def leave(self, account_hex: str, socket: WebSocket) -> None:
        self._sockets[account_hex].pop(socket, None)

    async def run(self) -> None:
        """Subscribe, deliver, and after any loss of Redis subscribe again."""
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any loss of Redis: say so and try again
                if self.connected or self.last_error is None:
                    log.warning("websocket_fanout_lost", error=repr(exc))
                self.connected = False
                self.last_error = repr(exc)
            await asyncio.sleep(self._pause)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.psubscribe(f"{self._prefix}:ws:*")
            # Only once Redis confirms the subscription may what is owed be published:
            # a publish on another connection could otherwise overtake it and be lost.
            await self._confirmed(pubsub)
            if self._on_connect is not None:
                await self._on_connect()
            self.connected, self.last_error = True, None
            log.info("websocket_fanout_subscribed")
            async for message in pubsub.listen():
                if message["type"] == "pmessage":
                    await self._deliver(message["channel"], message["data"])
            raise ConnectionError("the Redis subscription ended")
        finally:
            self.connected = False
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    @staticmethod
    async def _confirmed(pubsub: Any, within_s: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + within_s
        while asyncio.get_running_loop().time() < deadline:
            message = await pubsub.get_message(ignore_subscribe_messages=False, timeout=0.5)
            if message is not None and message["type"] == "psubscribe":
                return
        raise ConnectionError("Redis did not confirm the subscription")

    async def _deliver(self, channel: bytes | str, data: bytes | str) -> None:
        account_hex = (channel.decode() if isinstance(channel, bytes) else channel).rsplit(":", 1)[
            -1
        ]
        envelope = json.loads(data)
        owner, text = envelope["owner"], json.dumps(envelope["push"])
        targets: list[tuple[WebSocket, str | None]]
        if account_hex == EVERYONE:  # a resync: every socket of every account
            targets = [(s, None) for sockets in self._sockets.values() for s in sockets]
        else:
            targets = list(self._sockets.get(account_hex, {}).items())
        for socket, only in targets:
            if only is not None and only != owner:
                continue  # an owned-view user hears of their own segments only
            try:
                await socket.send_text(text)
            except Exception:  # a closed socket leaves on its own side too
                for sockets in self._sockets.values():
                    sockets.pop(socket, None)
