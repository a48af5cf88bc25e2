"""The one owner of builds: it decides what builds when, and records every build's life.

Inputs are facts (segment.changed, job.submitted, job.started, job.completed) and
one command (cascade.requested). Each is handled once, under the account's lock,
in one transaction that moves the builds along their state machine (`lifecycle`),
updates the segments' projected status and announces each change (`announce`), and
sends the compiler the builds that may start now (`planning`).

This class is the door: it opens the transaction and hands the decision to the
module that holds it (`inputs` for messages, `redrives` for the reconciler).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID, uuid4

import structlog

from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.messages import (
    BuildState,
    JobCompleted,
    JobStarted,
    JobSubmitted,
    PlanBuilds,
    SegmentChanged,
    StartRefreshRunData,
)
from scheduler import repository
from scheduler.builds import inputs, redrives
from scheduler.builds.announce import announce
from scheduler.builds.context import GraphCache, Tx
from scheduler.builds.planning import advance
from scheduler.builds.refresh_runs import start_run
from scheduler.repository import Build, SegmentInfo
from segment_runtime.db import Connection, Pool
from segment_runtime.idempotency import handle_once
from segment_runtime.metrics import DELAYED_BUILDS

log = structlog.get_logger(__name__)
CONSUMER = "scheduler"
Decision = Callable[[Tx], Awaitable[None]]


class BuildOwner:
    def __init__(self, pool: Pool, clock: Clock = SYSTEM_CLOCK) -> None:
        self._pool = pool
        self._clock = clock
        self._graphs = GraphCache()

    # --- messages ----------------------------------------------------------------------------

    async def on_segment_changed(self, event: SegmentChanged) -> None:
        await self._once(event, lambda tx: inputs.segment_changed(tx, event.data))

    async def on_plan_builds(self, event: PlanBuilds) -> None:
        d = event.data
        if isinstance(d, StartRefreshRunData):
            await self._once(event, lambda tx: inputs.start_refresh_run(tx, d, event.id))
        else:
            await self._once(event, lambda tx: inputs.rebuild_segments(tx, d))

    async def on_job_submitted(self, event: JobSubmitted) -> None:
        await self._once(event, lambda tx: inputs.job_submitted(tx, event.data), plan=False)

    async def on_job_started(self, event: JobStarted) -> None:
        await self._once(event, lambda tx: inputs.job_started(tx, event.data), plan=False)

    async def on_job_completed(self, event: JobCompleted) -> None:
        await self._once(event, lambda tx: inputs.job_completed(tx, event.data))

    # --- the schedule ------------------------------------------------------------------------

    async def start_refresh(
        self, account_id: UUID, scheduled_for: datetime, trigger: str, run_id: UUID | None = None
    ) -> bool:
        """A refresh run over the account's active segments; False if it already ran."""
        run = run_id or uuid4()
        started: list[bool] = []

        async def decide(tx: Tx) -> None:
            started.append(await start_run(tx, run, scheduled_for, trigger))

        await self._locked(account_id, run, decide)
        return started[0]

    # --- what the reconciler re-drives -------------------------------------------------------

    async def advance(self, account_id: UUID) -> None:
        """Dispatch whatever may start now (a wake-up that a lost message never gave)."""

        async def look_everywhere(tx: Tx) -> None:
            tx.ended = None

        await self._locked(account_id, uuid4(), look_everywhere)

    async def redispatch(self, build: Build, max_attempts: int, waited_s: float) -> None:
        await self._locked(
            build.account_id,
            uuid4(),
            lambda tx: redrives.redispatch(tx, build.id, max_attempts, waited_s),
        )

    async def ask_again(self, build: Build) -> None:
        await self._locked(build.account_id, uuid4(), lambda tx: redrives.ask_again(tx, build.id))

    async def give_up(self, build: Build, reason: str) -> None:
        await self._locked(
            build.account_id, uuid4(), lambda tx: redrives.give_up(tx, build, reason)
        )

    async def cancel_orphan(self, build: Build, status: str) -> None:
        await self._locked(
            build.account_id, uuid4(), lambda tx: redrives.cancel_orphan(tx, build, status)
        )

    async def recover_change(self, segment: SegmentInfo) -> None:
        await self._locked(
            segment.account_id, uuid4(), lambda tx: redrives.recover_change(tx, segment)
        )

    async def note_waits(self, account_id: UUID, notes: list[tuple[Build, str]]) -> int:
        """Say why these builds wait (the watch found them waiting longer than expected).
        A build that moved meanwhile is left alone: its move already cleared the question."""
        noted = 0
        async with self._pool.acquire() as conn, conn.transaction():
            tx = Tx(conn, account_id, uuid4(), self._graphs, self._clock)
            for seen, note in notes:
                build = await repository.note_waiting(conn, seen.id, seen.state, note)
                if build is None:
                    continue
                if seen.waiting is None:
                    kind = "dependency" if seen.state is BuildState.REQUESTED else "slow_job"
                    DELAYED_BUILDS.labels(kind).inc()
                log.info("build_waiting", build_id=str(build.id), waiting=note)
                await announce(tx, build)
                noted += 1
        return noted

    # --- transactions ------------------------------------------------------------------------

    async def _once(
        self,
        event: SegmentChanged | PlanBuilds | JobSubmitted | JobStarted | JobCompleted,
        decide: Decision,
        *,
        plan: bool = True,
    ) -> None:
        """Handle a message once. Planning takes the account's lock; a fact that only moves
        one build along (submitted, running) does not need it: its guarded UPDATE holds
        that build's row, which orders it against the build's end."""

        async def effect(conn: Connection) -> None:
            tx = Tx(conn, event.accountid, event.correlationid, self._graphs, self._clock)
            if plan:
                await repository.lock_account(conn, event.accountid)
            await decide(tx)
            if plan:
                await advance(tx)

        await handle_once(self._pool, CONSUMER, event.id, effect)

    async def _locked(self, account_id: UUID, correlation: UUID, decide: Decision) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.lock_account(conn, account_id)
            tx = Tx(conn, account_id, correlation, self._graphs, self._clock)
            await decide(tx)
            await advance(tx)
