"""The native websocket endpoint's hub: Redis fan-out in, the account's sockets out."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import structlog
from fastapi import WebSocket
from redis.asyncio import Redis

log = structlog.get_logger(__name__)


class Hub:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._sockets: dict[str, set[WebSocket]] = defaultdict(set)
        self.ready = asyncio.Event()

    def join(self, account_hex: str, socket: WebSocket) -> None:
        self._sockets[account_hex].add(socket)

    def leave(self, account_hex: str, socket: WebSocket) -> None:
        self._sockets[account_hex].discard(socket)

    async def run(self) -> None:
        """One Redis subscription per process, whatever the number of sockets."""
        pubsub = self._redis.pubsub()
        await pubsub.psubscribe(f"{self._prefix}:ws:*")
        self.ready.set()
        try:
            async for message in pubsub.listen():
                if message["type"] != "pmessage":
                    continue
                channel = message["channel"]
                account_hex = (
                    channel.decode() if isinstance(channel, bytes) else str(channel)
                ).rsplit(":", 1)[-1]
                data = message["data"]
                text = data.decode() if isinstance(data, bytes) else str(data)
                for socket in list(self._sockets.get(account_hex, ())):
                    try:
                        await socket.send_text(text)
                    except Exception:  # a closed socket leaves on its own side too
                        self.leave(account_hex, socket)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
