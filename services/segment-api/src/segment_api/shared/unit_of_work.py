"""A change to an account's segments: one transaction, and the cache invalidated once,
after it committed (a failed change invalidates nothing; a reader between commit and
invalidation sees the old answer for a moment, never a future one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from segment_api.shared.cache import Cache
from segment_runtime.db import Connection, Pool


@asynccontextmanager
async def changing(pool: Pool, cache: Cache, account_id: UUID) -> AsyncIterator[Connection]:
    async with pool.acquire() as conn, conn.transaction():
        yield conn
    await cache.invalidate(account_id)
