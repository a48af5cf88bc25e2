from __future__ import annotations

from typing import Protocol
from uuid import UUID

from contracts.push import AnyPush


class Channel(Protocol):
    """Somewhere a push goes: Pusher, the websocket fan-out, the gateway's cache."""

    async def send(self, account_id: UUID, push: AnyPush) -> None: ...


class SeenMessages(Protocol):
    async def seen(self, message_id: UUID) -> bool: ...

    async def remember(self, message_id: UUID) -> None: ...
