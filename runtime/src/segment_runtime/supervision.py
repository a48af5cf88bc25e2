"""Background loops that never die silently.

A loop that raises is logged with its cause and restarted after a capped,
growing pause; a loop that keeps failing keeps being logged. Cancellation (the
process shutting down) is the only way out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)

FIRST_PAUSE_S = 0.5
MAX_PAUSE_S = 30.0
# A loop that ran this long before failing counts as healthy again: its pause restarts small.
HEALTHY_AFTER_S = 60.0


async def supervise(
    name: str,
    loop: Callable[[], Awaitable[None]],
    *,
    first_pause_s: float = FIRST_PAUSE_S,
    max_pause_s: float = MAX_PAUSE_S,
) -> None:
    pause = first_pause_s
    restarts = 0
    while True:
        started = time.monotonic()
        try:
            await loop()
            log.error("background_task_returned", task=name, restarts=restarts)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("background_task_failed", task=name, restarts=restarts, error=repr(exc))
        if time.monotonic() - started > HEALTHY_AFTER_S:
            pause = first_pause_s
        restarts += 1
        await asyncio.sleep(pause)
        pause = min(pause * 2, max_pause_s)


async def every(interval_s: float, step: Callable[[], Awaitable[object]]) -> None:
    """Run `step` forever at a fixed interval; its errors reach the supervisor."""
    while True:
        await step()
        await asyncio.sleep(interval_s)
