"""Pusher, Redis fan-out, Redis dedup and the gateway's cache generation.

Redis is a helper here, not a dependency of Pusher pushes: with Redis away the
notifier still pushes on Pusher (a redelivered message may then push twice,
which a frontend shrugs off), websocket pushes are kept in order and sent as soon
as Redis answers again (the health endpoint says the fan-out is down meanwhile; if
more were owed than it keeps, sockets get a `resync` event instead of the oldest),
and a cache invalidation that could not be written is made good, for every account
at once, as soon as Redis answers again.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from uuid import UUID

import pusher
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from contracts.cache import cache_epoch_key, cache_generation_key
from contracts.push import AnyPush, account_channel, owner_channel
from segment_runtime.settings import PusherSettings

log = structlog.get_logger(__name__)


def fanout_channel(prefix: str, account_id: UUID | str) -> str:
    """The account's fan-out channel (or, given EVERYONE, every socket's)."""
    return f"{prefix}:ws:{account_id.hex if isinstance(account_id, UUID) else account_id}"


def fanout_message(push: AnyPush, owner: str | None) -> str:
    """What travels between notifier instances: the push and whom it may reach."""
    return json.dumps({"owner": owner, "push": push.model_dump(mode="json")})


class PusherChannel:
    def __init__(self, settings: PusherSettings) -> None:
        self._client = pusher.Pusher(
            app_id=settings.pusher_app_id,
            key=settings.pusher_key,
            secret=settings.pusher_secret.get_secret_value(),
            host=settings.pusher_host,
            port=settings.pusher_port,
            ssl=settings.pusher_ssl,
            timeout=10,
        )

    async def send(self, account_id: UUID, push: AnyPush, owner: str | None) -> None:
        channels = [account_channel(account_id)]
        if owner is not None:
            channels.append(owner_channel(account_id, owner))
        await asyncio.to_thread(
            self._client.trigger, channels, push.event, push.model_dump(mode="json")
        )


RESYNC_EVENT = "resync"
# Every socket of every account hears what is published here (a resync).
EVERYONE = "all"
MAX_OWED = 10_000


def resync_message(lost: int) -> str:
    """Pushes were lost: a client reloads what it shows (lists, statuses) from the API."""
    return json.dumps(
        {"owner": None, "push": {"event": RESYNC_EVENT, "lost": lost, "reason": "fan-out was down"}}
    )


class RedisFanout:
    """Publishes to Redis so every notifier instance reaches its own websockets. While
    Redis is away no socket of any instance can hear anything (their subscriptions are
    down too), so pushes are kept, in order, and published when it answers again."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        max_owed: int = MAX_OWED,
        subscribed: Callable[[], bool] = lambda: True,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._owed: deque[tuple[str, str]] = deque()
        self._max_owed = max_owed
        self._lost = 0  # pushes dropped because more were owed than kept
        self._lock = asyncio.Lock()
        # Whether this process's fan-out is subscribed: a push published before it is
        # again would reach Redis and no socket (seen on the stack: Redis answered a
        # publish 0.1 s before the subscription was back). Until then, pushes are owed.
        self.subscribed = subscribed

    @property
    def owed(self) -> int:
        return len(self._owed)

    async def send(self, account_id: UUID, push: AnyPush, owner: str | None) -> None:
        self._owe(fanout_channel(self._prefix, account_id), fanout_message(push, owner))
        if self.subscribed():
            await self.flush()

    def _owe(self, channel: str, message: str) -> None:
        if len(self._owed) >= self._max_owed:
            self._owed.popleft()
            self._lost += 1
        self._owed.append((channel, message))

    async def flush(self) -> None:
        """Publish what is owed, oldest first; stop at the first failure (kept for later).
        Called on every push and whenever the fan-out subscribes again."""
        async with self._lock:
            # Twice: after an outage the first command may meet a connection the outage
            # broke, and the client makes a fresh one for the next.
            for attempt in (1, 2):
                try:
                    await self._publish_owed()
                except RedisError as exc:
                    if attempt == 2:
                        log.warning(
                            "websocket_fanout_unavailable", owed=len(self._owed), error=repr(exc)
                        )
                else:
                    return

    async def _publish_owed(self) -> None:
        if self._lost:
            await self._redis.publish(
                fanout_channel(self._prefix, EVERYONE), resync_message(self._lost)
            )
            log.warning("websocket_pushes_lost_resync_sent", lost=self._lost)
            self._lost = 0
        while self._owed:
            channel, message = self._owed[0]
            await self._redis.publish(channel, message)
            self._owed.popleft()


class RedisSeen:
    def __init__(self, redis: Redis, prefix: str, ttl_s: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_s

    def _key(self, message_id: UUID) -> str:
        return f"{self._prefix}:notifier:seen:{message_id.hex}"

    async def seen(self, message_id: UUID) -> bool:
        try:
            return bool(await self._redis.exists(self._key(message_id)))
        except RedisError as exc:
            log.warning("dedup_unavailable_pushing_anyway", error=repr(exc))
            return False

    async def remember(self, message_id: UUID) -> None:
        try:
            await self._redis.set(self._key(message_id), 1, ex=self._ttl)
        except RedisError as exc:
            log.warning("dedup_unavailable", error=repr(exc))


class CacheGeneration:
    """Bumps the account's gateway cache generation: a finished build changes what the
    gateway's cached lists and previews would say."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self.owed = False  # an invalidation was lost: the shared epoch must move

    async def send(self, account_id: UUID, push: AnyPush, owner: str | None) -> None:
        del push, owner
        try:
            await self._redis.incr(cache_generation_key(self._prefix, account_id))
        except RedisError as exc:
            log.warning("cache_invalidation_owed", account_id=str(account_id), error=repr(exc))
            self.owed = True

    async def settle(self) -> None:
        """Once Redis answers again: every cached answer written before is unreachable."""
        if self.owed:
            await self._redis.incr(cache_epoch_key(self._prefix))
            self.owed = False
            log.info("cache_invalidation_settled")
