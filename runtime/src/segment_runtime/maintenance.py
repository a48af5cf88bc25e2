"""Pruning what delivery leaves behind: processed-message ids and published outbox rows.

Each service prunes only its own rows (its consumer name, its outbox messages),
so these shared tables keep one writer per row.
"""

from __future__ import annotations

from datetime import timedelta

from segment_runtime.db import Pool

# Longer than any redelivery can arrive late (a consumer group's lag, a replay).
KEEP = timedelta(days=7)


async def prune_delivered(pool: Pool, service: str, keep: timedelta = KEEP) -> tuple[int, int]:
    async with pool.acquire() as conn:
        processed = await conn.execute(
            "DELETE FROM processed_messages"
            " WHERE consumer = $1 AND processed_at < now() - $2::interval",
            service,
            keep,
        )
        published = await conn.execute(
            "DELETE FROM outbox"
            " WHERE published_at < now() - $2::interval AND payload->>'source' = $1",
            service,
            keep,
        )
    return int(processed.split()[-1]), int(published.split()[-1])
