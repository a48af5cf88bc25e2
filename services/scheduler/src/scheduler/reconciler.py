"""The reconciler: re-drives builds that stopped making progress, from what Postgres holds.

Delivery is at-least-once and the local broker forgets everything when it
restarts, so a message can be lost between two services. Each pass looks for
the traces of such a loss in the scheduler's own tables and either re-drives the
work through the bus (idempotently: the job id derives from the build, so a
re-sent build finds the same job, and whoever knows its fate re-states it) or
ends the build with a reason. Nothing is left waiting without one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from uuid import UUID

import structlog

from scheduler import repository
from scheduler.builds import BuildOwner
from scheduler.repository import Build
from segment_runtime.db import Pool
from segment_runtime.metrics import STUCK_BUILDS

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Deadlines:
    dispatch_s: float = 60.0  # sent to the compiler, no job.submitted since
    silent_s: float = 30.0  # submitted or running with no news: asked about again
    silent_cap_s: float = 600.0  # each ask waits twice the last, up to this
    job_s: float = 2100.0  # submitted or running with no outcome at all (monitor timeout + 5 min)
    change_s: float = 30.0  # a segment's new rules (or a command) that nothing took up
    max_attempts: int = 3


class Reconciler:
    def __init__(self, pool: Pool, owner: BuildOwner, deadlines: Deadlines | None = None) -> None:
        self._pool = pool
        self._owner = owner
        self.deadlines = deadlines or Deadlines()

    async def after_broker_restart(self, resources_event: asyncio.Event, settle_s: float) -> None:
        """Each time the broker comes back empty, re-drive what was in flight on it at once
        (after `settle_s` for consumers to rejoin) rather than after the usual deadlines:
        a build the compiler never answered, a job whose end was not heard, a change
        nothing took up. (A command the gateway sent is sent again by its own relay.)"""
        while True:
            await resources_event.wait()
            resources_event.clear()
            await asyncio.sleep(settle_s)
            d = self.deadlines
            done = await self.run_once(
                replace(
                    d,
                    dispatch_s=settle_s,
                    silent_s=settle_s,
                    silent_cap_s=settle_s,
                    change_s=settle_s,
                )
            )
            log.warning("reconciled_after_broker_restart", **done)

    async def run_once(self, deadlines: Deadlines | None = None) -> dict[str, int]:
        """One pass; returns what it did, by kind (for logs and tests)."""
        d = deadlines or self.deadlines
        async with self._pool.acquire() as conn:
            queued_accounts = await repository.accounts_with_queued(conn)
            unanswered = await repository.unanswered_dispatches(conn, d.dispatch_s)
            silent = await repository.silent_jobs(conn, d.silent_s, d.silent_cap_s)
            overdue = await repository.overdue_running(conn, d.job_s)
            lost_changes = await repository.unbuilt_changes(conn, d.change_s)
            orphans = await repository.orphaned_builds(conn)
        done = {
            "orphans": await self._cancel_orphans(orphans),
            "advanced": await self._advance(queued_accounts),
            "redispatched": await self._redispatch(unanswered, d.dispatch_s),
            "asked": await self._ask_again(silent),
            "overdue": await self._fail_overdue(overdue),
            "recovered": await self._recover_changes(lost_changes),
        }
        for kind, count in done.items():
            STUCK_BUILDS.labels(kind).set(count)
        if any(done.values()):
            log.warning("reconciled", **done)
        return done

    async def _redispatch(self, builds: list[Build], waited_s: float) -> int:
        for build in builds:
            await self._owner.redispatch(build, self.deadlines.max_attempts, waited_s)
        return len(builds)

    async def _ask_again(self, builds: list[Build]) -> int:
        for build in builds:
            await self._owner.ask_again(build)
        return len(builds)

    async def _cancel_orphans(self, orphans: list[tuple[Build, str]]) -> int:
        for build, status in orphans:
            await self._owner.cancel_orphan(build, status)
        return len(orphans)

    async def _advance(self, accounts: list[UUID]) -> int:
        for account_id in accounts:
            await self._owner.advance(account_id)
        return len(accounts)

    async def _fail_overdue(self, builds: list[Build]) -> int:
        for build in builds:
            reason = f"no outcome from the job monitor within {self.deadlines.job_s:.0f} s"
            await self._owner.give_up(build, reason)
        return len(builds)

    async def _recover_changes(self, segments: list[repository.SegmentInfo]) -> int:
        for segment in segments:
            await self._owner.recover_change(segment)
        return len(segments)
