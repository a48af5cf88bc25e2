"""Pusher, Redis fan-out, Redis dedup and the gateway's cache generation.

Redis is a helper here, not a dependency of Pusher pushes: with Redis away the
notifier still pushes on Pusher (a redelivered message may then push twice,
which a frontend shrugs off), websocket fan-out waits for Redis to return (the
health endpoint says so), and a cache invalidation that could not be written is
made good, for every account at once, as soon as Redis answers again.
"""

from __future__ import annotations

import asyncio
import json
from uuid import UUID

import pusher
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from contracts.cache import cache_epoch_key, cache_generation_key
from contracts.push import AnyPush, account_channel, owner_channel
from segment_runtime.settings import PusherSettings

log = structlog.get_logger(__name__)


def fanout_channel(prefix: str, account_id: UUID) -> str:
    return f"{prefix}:ws:{account_id.hex}"


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


class RedisFanout:
    """Publishes to Redis so every notifier instance reaches its own websockets."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def send(self, account_id: UUID, push: AnyPush, owner: str | None) -> None:
        try:
            await self._redis.publish(
                fanout_channel(self._prefix, account_id), fanout_message(push, owner)
            )
        except RedisError as exc:
            # No socket of any instance can hear it now: their subscriptions are down too.
            log.warning("websocket_fanout_unavailable", error=repr(exc))


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
