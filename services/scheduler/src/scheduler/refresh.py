"""The refresh use case: due accounts get a refresh run; cascades rebuild ancestors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import structlog

from contracts.messages import BuildMode, BuildRequested, BuildRequestedData, CascadeRequested
from scheduler import repository
from scheduler.planning import due_tick, plan_refresh
from segment_runtime.db import Connection, Pool
from segment_runtime.idempotency import handle_once
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)
SOURCE = "scheduler"
CONSUMER = "scheduler"


class RefreshScheduler:
    def __init__(self, pool: Pool, *, catch_up: timedelta) -> None:
        self._pool = pool
        self._catch_up = catch_up

    async def run(self, tick_s: float) -> None:
        while True:
            try:
                await self.tick(datetime.now(UTC))
            except Exception:
                log.exception("scheduler_tick_failed")
            await asyncio.sleep(tick_s)

    async def tick(self, now: datetime) -> int:
        """Start a run for every account whose schedule is due; returns how many started."""
        started = 0
        async with self._pool.acquire() as conn:
            schedules = await repository.accounts(conn)
        for account in schedules:
            scheduled_for = due_tick(account.refresh_cron, account.time_zone, now, self._catch_up)
            if scheduled_for is not None and await self.refresh_account(
                account.id, scheduled_for, "schedule"
            ):
                started += 1
        return started

    async def refresh_account(
        self, account_id: UUID, scheduled_for: datetime, trigger: str
    ) -> bool:
        run_id = uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            if not await repository.start_run(conn, run_id, account_id, scheduled_for, trigger):
                return False
            segments = await repository.refreshable_segments(conn, account_id)
            # Seam: with one level, all requests go out now; with several, later levels
            # go out as job.completed reports the previous level done.
            for level in plan_refresh(segments)[:1]:
                for segment_id in level:
                    await enqueue(
                        conn,
                        BuildRequested(
                            source=SOURCE,
                            accountid=account_id,
                            correlationid=run_id,
                            data=BuildRequestedData(
                                segment_id=segment_id,
                                mode=BuildMode.REFRESH,
                                reason="schedule",
                                run_id=run_id,
                            ),
                        ),
                    )
        log.info(
            "refresh_started",
            account_id=str(account_id),
            run_id=str(run_id),
            segments=len(segments),
        )
        return True

    async def on_cascade_requested(self, event: CascadeRequested) -> None:
        async def effect(conn: Connection) -> None:
            for parent in event.data.parent_segment_ids:
                await enqueue(
                    conn,
                    BuildRequested(
                        source=SOURCE,
                        accountid=event.accountid,
                        correlationid=event.correlationid,
                        data=BuildRequestedData(
                            segment_id=parent,
                            mode=BuildMode.BUILD,
                            reason="cascade",
                            run_id=event.data.cascade_id,
                        ),
                    ),
                )

        await handle_once(self._pool, CONSUMER, event.id, effect)
