"""Pusher, Redis fan-out and Redis dedup."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pusher
from redis.asyncio import Redis

from contracts.cache import cache_generation_key
from contracts.push import AnyPush, account_channel
from segment_runtime.settings import PusherSettings


def fanout_channel(prefix: str, account_id: UUID) -> str:
    return f"{prefix}:ws:{account_id.hex}"


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

    async def send(self, account_id: UUID, push: AnyPush) -> None:
        await asyncio.to_thread(
            self._client.trigger,
            account_channel(account_id),
            push.event,
            push.model_dump(mode="json"),
        )


class RedisFanout:
    """Publishes to Redis so every notifier instance reaches its own websockets."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def send(self, account_id: UUID, push: AnyPush) -> None:
        await self._redis.publish(fanout_channel(self._prefix, account_id), push.model_dump_json())


class RedisSeen:
    def __init__(self, redis: Redis, prefix: str, ttl_s: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_s

    def _key(self, message_id: UUID) -> str:
        return f"{self._prefix}:notifier:seen:{message_id.hex}"

    async def seen(self, message_id: UUID) -> bool:
        return bool(await self._redis.exists(self._key(message_id)))

    async def remember(self, message_id: UUID) -> None:
        await self._redis.set(self._key(message_id), 1, ex=self._ttl)


class CacheGeneration:
    """Bumps the account's gateway cache generation: a finished build changes what the
    gateway's cached lists and previews would say."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def send(self, account_id: UUID, push: AnyPush) -> None:
        del push
        await self._redis.incr(cache_generation_key(self._prefix, account_id))
