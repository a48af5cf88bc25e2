"""A fixed-window rate limit per account on the routes that cost warehouse time.

When Redis is down the limit is not enforced (the gateway keeps answering, as
its cache does) and the health endpoint reports Redis down.
"""

from __future__ import annotations

from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError

from contracts.clock import SYSTEM_CLOCK, Clock
from segment_api.http.problems import ProblemError

WINDOW_S = 60


class RateLimiter:
    def __init__(
        self, redis: Redis | None, prefix: str, per_minute: int, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._prefix = prefix
        self._limit = per_minute

    async def check(self, account_id: UUID, kind: str) -> None:
        if self._redis is None:
            return
        second = int(self._clock.now().timestamp())
        window = second // WINDOW_S
        key = f"{self._prefix}:rate:{account_id.hex}:{kind}:{window}"
        try:
            count = int(await self._redis.incr(key))
            if count == 1:
                await self._redis.expire(key, WINDOW_S * 2)
        except RedisError:
            return
        if count > self._limit:
            retry = WINDOW_S - second % WINDOW_S
            raise ProblemError(
                429,
                "rate_limited",
                "Too many requests",
                f"at most {self._limit} {kind} requests a minute per account",
                headers={"Retry-After": str(retry)},
            )
