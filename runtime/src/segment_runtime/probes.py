"""The readiness checks every service's /ready makes: each dependency `up`, or `down`
with why. A probe reports; it never raises."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from faststream.kafka import KafkaBroker

from segment_runtime.db import Pool


async def kafka(broker: KafkaBroker) -> str:
    try:
        await asyncio.wait_for(broker.ping(timeout=2.0), 3.0)
    except Exception as exc:  # a probe reports, it does not raise
        return f"down: {exc!r}"[:200]
    return "up"


async def postgres(pool: Callable[[], Pool]) -> str:
    try:
        async with pool().acquire(timeout=2.0) as conn:
            await conn.fetchval("SELECT 1")
    except Exception as exc:  # includes a pool not opened yet
        return f"down: {exc!r}"[:200]
    return "up"
