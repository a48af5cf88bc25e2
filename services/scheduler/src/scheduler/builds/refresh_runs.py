"""A refresh run: one build queued for each of the account's active segments, in one
decision, so that planning orders them by what they embed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import structlog

from contracts.messages import BuildCause, BuildMode
from scheduler import repository
from scheduler.builds.announce import progress
from scheduler.builds.context import Tx
from scheduler.builds.lifecycle import request

log = structlog.get_logger(__name__)


async def start_run(tx: Tx, run_id: UUID, scheduled_for: datetime, trigger: str) -> bool:
    """Queue the run; False if this run (or this tick's) was started already."""
    segments = await repository.active_segments(tx.conn, tx.account_id)
    if not await repository.start_run(
        tx.conn,
        run_id,
        tx.account_id,
        scheduled_for=scheduled_for,
        trigger=trigger,
        segment_count=len(segments),
    ):
        return False
    for segment_id in segments:
        await request(tx, segment_id, BuildCause.REFRESH, BuildMode.REFRESH, run_id=run_id)
    await progress(tx, run_id)
    log.info(
        "refresh_started", account_id=str(tx.account_id), run_id=str(run_id), segments=len(segments)
    )
    return True
