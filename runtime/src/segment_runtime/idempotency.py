"""Idempotent consumers: a message id is recorded in the same transaction as its effect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

import structlog

from segment_runtime.db import Connection, Pool

log = structlog.get_logger(__name__)


async def handle_once(
    pool: Pool, consumer: str, message_id: UUID, effect: Callable[[Connection], Awaitable[None]]
) -> bool:
    """Run `effect` in a transaction unless `consumer` already processed `message_id`.

    Returns False for a redelivery (nothing was done).
    """
    async with pool.acquire() as conn, conn.transaction():
        first = await conn.fetchval(
            "INSERT INTO processed_messages (consumer, message_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true",
            consumer,
            message_id,
        )
        if not first:
            # Said, so that a redelivery or a replay can be seen to have changed nothing.
            log.info("message_repeated", consumer=consumer, message_id=str(message_id))
            return False
        await effect(conn)
        return True
