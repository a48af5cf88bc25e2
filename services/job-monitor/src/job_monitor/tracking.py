"""The monitoring use case: follow each submitted job to its end, on its own.

Every job is checked in its own task and its own transaction, so one job's
error (a dropped table, a warehouse refusal, a bug) fails that job's build with
the reason after a few tries and never blocks another. While a job runs, a
check long-polls BigQuery for its end, so the end is seen within moments. The
monitor states facts (`job.started` here, `job.completed` in `endings`); what
follows from them is the scheduler's decision.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

import structlog

from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.envelope import Cause
from contracts.messages import (
    CancelJob,
    JobStarted,
    JobStartedData,
    JobSubmitted,
)
from job_monitor import repository
from job_monitor.endings import JobEnds, completed
from job_monitor.ports import JobInspector, JobState
from job_monitor.repository import Outcome, TrackedJob
from segment_runtime.correlation import correlated
from segment_runtime.db import Connection, Pool
from segment_runtime.idempotency import handle_once
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)
CONSUMER = "job-monitor"
SOURCE = "job-monitor"
FIRST_POLL_DELAY_S = 0.5
# A check is leased for its long-poll plus this; a monitor killed mid-check leaves the job
# to another (or to itself, restarted) once the lease runs out.
LEASE_MARGIN_S = 30.0
# A check is cut off this long before its lease ends.
LEASE_SAFETY_S = 2.0


def poll_delay(polls: int, max_interval_s: float) -> float:
    """Backoff between plain polls of one job: 0.5 s, 1 s, 2 s, … up to the cap."""
    return float(min(max_interval_s, FIRST_POLL_DELAY_S * 2 ** min(polls, 20)))


class JobTracker:
    def __init__(
        self,
        pool: Pool,
        inspector: JobInspector,
        *,
        timeout_s: float,
        max_interval_s: float,
        long_poll_s: float = 0.0,
        concurrency: int = 16,
        error_budget: int = 5,
        lease_margin_s: float = LEASE_MARGIN_S,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._inspector = inspector
        self._timeout_s = timeout_s
        self._max_interval_s = max_interval_s
        self._long_poll_s = long_poll_s
        self._concurrency = concurrency
        self._error_budget = error_budget
        self._lease_s = long_poll_s + lease_margin_s
        # The job each running check follows: a job is never checked twice at once.
        self._following: dict[str, asyncio.Task[None]] = {}
        self.wake = asyncio.Event()
        self._ends = JobEnds(pool, inspector, clock)

    @property
    def inspector(self) -> JobInspector:
        return self._inspector

    @property
    def owed(self) -> asyncio.Event:
        """Set when a job's end leaves an announcement owed (the announcer waits on it)."""
        return self._ends.owed

    async def on_job_submitted(self, event: JobSubmitted) -> None:
        async def effect(conn: Connection) -> None:
            if not await repository.track(conn, event, self._timeout_s):
                await self._restate(conn, event.data.job_id)

        if await handle_once(self._pool, CONSUMER, event.id, effect):
            self.wake.set()

    async def _restate(self, conn: Connection, job_id: str) -> None:
        """A job heard of again: the scheduler sent its build again because its facts
        stopped coming (see the scheduler's reconciler), so what is known is said again."""
        known = await repository.known_job(conn, job_id)
        if known is None:
            return
        job, outcome = known
        if outcome is not None:
            await enqueue(conn, completed(job, outcome))
        elif job.started_announced:
            await enqueue(conn, started(job, None))
        log.info("job_restated", job_id=job_id, ended=outcome is not None)

    async def run(self, idle_s: float = 0.5) -> None:
        """Follow jobs until cancelled. Jobs live in Postgres, so a restart resumes them."""
        try:
            while True:
                free = self._concurrency - len(self._following)
                jobs = await self._claim(free) if free > 0 else []
                for job in jobs:
                    if job.id in self._following:
                        continue  # still being checked (claimed again as its lease ran out)
                    task = asyncio.create_task(self.follow(job), name=f"job:{job.id}")
                    self._following[job.id] = task
                    task.add_done_callback(self._forget(job.id, task))
                if not jobs:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), idle_s)
                    self.wake.clear()
        finally:
            for task in list(self._following.values()):
                task.cancel()

    def _forget(
        self, job_id: str, task: asyncio.Task[None]
    ) -> Callable[[asyncio.Task[None]], None]:
        def done(_: asyncio.Task[None]) -> None:
            # A check that released its job early may already have a successor: keep it.
            if self._following.get(job_id) is task:
                del self._following[job_id]

        return done

    async def poll_due(self, limit: int = 20) -> int:
        """Check every due job once, concurrently (the loop's step, for tests and tools)."""
        jobs = await self._claim(limit)
        await asyncio.gather(*(self.follow(job) for job in jobs))
        return len(jobs)

    async def _claim(self, limit: int) -> list[TrackedJob]:
        async with self._pool.acquire() as conn:
            return await repository.claim_due(conn, limit, self._lease_s)

    async def follow(self, job: TrackedJob) -> None:
        """One check of one job. Never raises: an error is this job's alone."""
        with correlated(
            job.correlation_id,
            account_id=job.account_id,
            segment_id=job.segment_id,
            build_id=job.build_id,
            job_id=job.id,
        ):
            await self._follow(job)

    async def _follow(self, job: TrackedJob) -> None:
        try:
            # A check never outlives its lease: past it another poller may claim the job.
            async with asyncio.timeout(max(self._lease_s - LEASE_SAFETY_S, 1.0)):
                await self._check(job)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            cut = TimeoutError(f"the check outlived its lease of {self._lease_s:.0f} s")
            log.warning("job_check_cut", job_id=job.id, error=str(cut))
            with contextlib.suppress(Exception):
                await self._check_failed(job, cut)
        except Exception as exc:
            log.exception("job_check_failed", job_id=job.id, error=repr(exc))
            with contextlib.suppress(Exception):
                await self._check_failed(job, exc)
        finally:
            self.wake.set()

    async def on_cancel_job(self, command: CancelJob) -> None:
        """The build owner canceled the build (its segment was deleted): stop the job and
        record it canceled. Both steps are idempotent, so a redelivery changes nothing; the
        segment's tables are the compiler's to drop."""
        d = command.data
        async with self._pool.acquire() as conn:
            job = await repository.running_job(conn, d.job_id)
        if job is None:
            return  # ended already, or never heard of: nothing runs to stop
        await self._inspector.cancel(job.id)
        outcome = Outcome("canceled", self._clock.now(), None, None, None, d.reason)
        await self._ends.finish(job, outcome, read_log=False)

    async def _check(self, job: TrackedJob) -> None:
        now = self._clock.now()
        remaining = (job.deadline_at - now).total_seconds()
        # Until the job has been seen running, look without waiting, so that its start is
        # told (job.started) before a long-poll waits for its end.
        wait = 0.0 if not job.started_announced else min(self._long_poll_s, remaining)
        state = await self._inspector.state(job.id, max(0.0, wait))
        if state.state in ("pending", "running"):
            await self._still_running(job, state)
            return
        await self._ends.finish(job, self._ends.outcome(state))

    async def _still_running(self, job: TrackedJob, state: JobState) -> None:
        now = self._clock.now()
        if now >= job.deadline_at:
            await self._inspector.cancel(job.id)
            reason = f"canceled after {self._timeout_s:.0f} s without finishing"
            await self._ends.finish(job, Outcome("canceled", now, None, None, None, reason))
            return
        async with self._pool.acquire() as conn, conn.transaction():
            if state.state == "running" and await repository.mark_started(conn, job.id):
                await enqueue(conn, started(job, state.started))
            # After a long-poll the next one can start at once; plain polls back off.
            delay = 0.0 if self._long_poll_s > 0 else poll_delay(job.polls, self._max_interval_s)
            await repository.reschedule(conn, job.id, delay)
            # The job is due again the moment this commits. Released now, a claim that comes
            # before this task has ended follows it; still held, that claim would skip it
            # and its lease would keep the job unwatched for half a minute, end or not.
            self._following.pop(job.id, None)

    async def _check_failed(self, job: TrackedJob, exc: Exception) -> None:
        async with self._pool.acquire() as conn:
            failures = await repository.poll_failed(
                conn, job.id, repr(exc)[:1000], poll_delay(job.poll_errors, self._max_interval_s)
            )
        if failures >= self._error_budget:
            reason = f"could not follow the job ({failures} failed checks): {exc}"
            await self._ends.finish(
                job, Outcome("failed", self._clock.now(), None, None, None, reason)
            )


def started(job: TrackedJob, at: datetime | None) -> JobStarted:
    return JobStarted.caused_by(
        Cause(job.account_id, job.correlation_id),
        SOURCE,
        data=JobStartedData(
            build_id=job.build_id, segment_id=job.segment_id, job_id=job.id, started_at=at
        ),
    )
