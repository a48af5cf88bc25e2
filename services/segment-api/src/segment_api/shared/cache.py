"""Read-through cache in Redis, invalidated per account by a generation number.

Every change to an account's segments bumps its generation (here, and in the
notifier when a build completes). Each entry is stamped with the epoch and
generation it was computed under, and read in the same round trip as the current
ones: an entry with an older stamp is a miss, so every older entry is stale at once.
With Redis down the gateway answers uncached and its health says so; a bump
that could not be written is owed, and paid before the next read once Redis
answers, by moving the shared epoch (every account's entries go at once: a blip
is rare, a stale list after one is a bug).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import structlog
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from contracts.cache import cache_epoch_key, cache_generation_key

log = structlog.get_logger(__name__)
M = TypeVar("M", bound=BaseModel)
HOUR = 3600


def fingerprint(value: Any) -> str:
    """A stable hash of a JSON-able value (a normalized rule set, query parameters)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or 0)


class Cache:
    def __init__(self, redis: Redis | None, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self.healthy = redis is not None
        self.owed = False  # an invalidation was lost while Redis was away

    async def _read(self, account_id: UUID, entry: str) -> tuple[bytes, bytes | None]:
        """The stamp entries must carry now (the epoch and the account's generation), and
        the entry's cached answer if it carries that stamp: one round trip for both."""
        assert self._redis is not None
        if self.owed:
            await self._redis.incr(cache_epoch_key(self._prefix))
            self.owed = False
            log.info("cache_invalidation_settled")
        epoch, gen, stored = await self._redis.mget(
            cache_epoch_key(self._prefix), cache_generation_key(self._prefix, account_id), entry
        )
        stamp = f"{_text(epoch)}.{_text(gen)}\n".encode()
        if stored is None:
            return stamp, None
        raw = stored if isinstance(stored, bytes) else str(stored).encode()
        # An entry written before the last change carries an older stamp: a miss.
        return stamp, raw[len(stamp) :] if raw.startswith(stamp) else None

    async def through(
        self,
        account_id: UUID,
        kind: str,
        key: Any,
        *,
        model: type[M],
        compute: Callable[[], Awaitable[M]],
        ttl_s: int = HOUR,
    ) -> M:
        """The cached answer, or compute, store and return it."""
        computed: list[M] = []

        async def fresh() -> M:
            computed.append(await compute())
            return computed[0]

        raw = await self.through_json(account_id, kind, key, compute=fresh, ttl_s=ttl_s)
        return computed[0] if computed else model.model_validate_json(raw)

    async def through_json(
        self,
        account_id: UUID,
        kind: str,
        key: Any,
        *,
        compute: Callable[[], Awaitable[BaseModel]],
        ttl_s: int = HOUR,
    ) -> bytes:
        """The cached answer as the JSON it is sent as: a hit is neither parsed nor
        re-serialized (most of a cached list's cost)."""
        if self._redis is None:
            return (await compute()).model_dump_json(by_alias=True).encode()
        entry = f"{self._prefix}:cache:{account_id.hex}:{kind}:{fingerprint(key)}"
        try:
            stamp, hit = await self._read(account_id, entry)
            self.healthy = True
        except RedisError:
            self._down()
            return (await compute()).model_dump_json(by_alias=True).encode()
        if hit is not None:
            return hit
        value = (await compute()).model_dump_json(by_alias=True).encode()
        try:
            # Stamped with what was current before computing: a change meanwhile makes
            # it stale at once, never fresh.
            await self._redis.set(entry, stamp + value, ex=ttl_s)
        except RedisError:
            self._down()
        return value

    async def invalidate(self, account_id: UUID) -> None:
        if self._redis is None:
            return
        try:
            await self._redis.incr(cache_generation_key(self._prefix, account_id))
            self.healthy = True
        except RedisError:
            self._down()
            self.owed = True

    async def ping(self) -> bool:
        if self._redis is None:
            return False
        try:
            await self._redis.ping()
        except RedisError:
            self._down()
            return False
        self.healthy = True
        return True

    def _down(self) -> None:
        if self.healthy:
            log.warning("redis_unavailable_answering_uncached")
        self.healthy = False
