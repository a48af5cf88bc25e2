"""The reconciler: re-drives builds that stopped making progress, from what Postgres holds.

Delivery is at-least-once and the local broker forgets everything when it
restarts, so a message can be lost between two services. Each pass looks for
the traces of such a loss and either re-drives the work (idempotently: the job
id derives from the build, so a re-sent build re-submits the same job) or ends
the build with a reason. Nothing is left waiting without one.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from contracts.messages import BuildState
from scheduler import repository
from scheduler.builds import BuildOwner
from segment_runtime.db import Pool

log = structlog.get_logger(__name__)

_JOB_STATES = {
    "done": BuildState.DONE,
    "failed": BuildState.FAILED,
    "canceled": BuildState.CANCELED,
}


@dataclass(frozen=True)
class Deadlines:
    dispatch_s: float = 60.0  # sent to the compiler, no job.submitted since
    silent_s: float = 30.0  # the job monitor recorded an end, and no job.completed came
    job_s: float = 2100.0  # submitted or running with no outcome at all (monitor timeout + 5 min)
    change_s: float = 30.0  # a segment's new rules that no build took up
    max_attempts: int = 3


class Reconciler:
    def __init__(self, pool: Pool, owner: BuildOwner, deadlines: Deadlines | None = None) -> None:
        self._pool = pool
        self._owner = owner
        self.deadlines = deadlines or Deadlines()

    async def run_once(self) -> dict[str, int]:
        """One pass; returns what it did, by kind (for logs and tests)."""
        d = self.deadlines
        done = {"advanced": 0, "redispatched": 0, "settled": 0, "overdue": 0, "recovered": 0}
        async with self._pool.acquire() as conn:
            queued_accounts = await repository.accounts_with_queued(conn)
            unanswered = await repository.unanswered_dispatches(conn, d.dispatch_s)
            silent = await repository.silent_jobs(conn, d.silent_s)
            overdue = await repository.overdue_running(conn, d.job_s)
            lost_changes = await repository.unbuilt_changes(conn, d.change_s)
        for account_id in queued_accounts:
            await self._owner.advance(account_id)
            done["advanced"] += 1
        for build in unanswered:
            await self._owner.redispatch(build, d.max_attempts, d.dispatch_s)
            done["redispatched"] += 1
        for build, job in silent:
            if job is None:
                if build.updated_at is not None:
                    await self._owner.redispatch(build, d.max_attempts, d.silent_s)
                    done["redispatched"] += 1
                continue
            await self._owner.settle(
                build,
                _JOB_STATES.get(job.status, BuildState.FAILED),
                job.error,
                member_count=job.member_count,
                bytes_billed=job.bytes_billed,
                entered=job.entered,
                exited=job.exited,
                duration_ms=job.duration_ms,
            )
            done["settled"] += 1
        for build in overdue:
            await self._owner.settle(
                build,
                BuildState.FAILED,
                f"no outcome from the job monitor within {d.job_s:.0f} s",
            )
            done["overdue"] += 1
        for segment in lost_changes:
            await self._owner.recover_change(segment)
            done["recovered"] += 1
        if any(done.values()):
            log.warning("reconciled", **done)
        return done
