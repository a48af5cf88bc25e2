from __future__ import annotations

from typing import Protocol
from uuid import UUID

from contracts.push import SegmentStatusPush


class Channel(Protocol):
    """Somewhere a status push goes: Pusher, the websocket fan-out."""

    async def send(self, account_id: UUID, push: SegmentStatusPush) -> None: ...


class SeenMessages(Protocol):
    async def seen(self, message_id: UUID) -> bool: ...

    async def remember(self, message_id: UUID) -> None: ...
