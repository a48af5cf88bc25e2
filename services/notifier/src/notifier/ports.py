from __future__ import annotations

from typing import Protocol
from uuid import UUID

from contracts.push import AnyPush


class Channel(Protocol):
    """Somewhere a push goes: Pusher, the websocket fan-out, the gateway's cache.

    `owner` is the segment's creator: users whose view is `owned` may hear of it only
    when it is theirs (None: account-wide viewers only)."""

    async def send(self, account_id: UUID, push: AnyPush, owner: str | None) -> None: ...


class SeenMessages(Protocol):
    async def seen(self, message_id: UUID) -> bool: ...

    async def remember(self, message_id: UUID) -> None: ...
