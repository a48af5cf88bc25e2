"""The monitoring use case: track submitted jobs, poll them with backoff, record outcomes."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from uuid import uuid4

import structlog

from contracts.messages import (
    BuildStatus,
    CascadeRequested,
    CascadeRequestedData,
    JobCompleted,
    JobCompletedData,
    JobSubmitted,
)
from job_monitor import repository
from job_monitor.ports import JobInspector, JobState
from job_monitor.repository import Outcome, TrackedJob
from segment_runtime.db import Connection, Pool
from segment_runtime.idempotency import handle_once
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)
CONSUMER = "job-monitor"
SOURCE = "job-monitor"
FIRST_POLL_DELAY_S = 0.5


def _exited(job: TrackedJob, state: JobState, members: int, entered: int) -> int | None:
    """A MERGE's affected rows are its inserts plus its deletes; a full build replaces
    the table, so who left is not known from the job alone."""
    if job.mode != "refresh":
        return None
    if state.affected_rows is not None:
        return max(state.affected_rows - entered, 0)
    if job.previous_members is not None:
        return max(job.previous_members + entered - members, 0)
    return None


def poll_delay(polls: int, max_interval_s: float) -> float:
    """Exponential backoff between polls of one job: 0.5 s, 1 s, 2 s, … up to the cap."""
    return float(min(max_interval_s, FIRST_POLL_DELAY_S * 2 ** min(polls, 20)))


class JobTracker:
    def __init__(
        self, pool: Pool, inspector: JobInspector, *, timeout_s: float, max_interval_s: float
    ) -> None:
        self._pool = pool
        self._inspector = inspector
        self._timeout_s = timeout_s
        self._max_interval_s = max_interval_s
        self.wake = asyncio.Event()

    async def on_job_submitted(self, event: JobSubmitted) -> None:
        async def effect(conn: Connection) -> None:
            await repository.track(conn, event, self._timeout_s)

        if await handle_once(self._pool, CONSUMER, event.id, effect):
            self.wake.set()

    async def run(self, idle_s: float = 0.5) -> None:
        """Poll forever. Jobs live in Postgres, so a restart resumes them here."""
        while True:
            try:
                busy = await self.poll_due()
            except Exception:
                log.exception("poll_failed")
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), idle_s)
                self.wake.clear()

    async def poll_due(self, limit: int = 20) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            jobs = await repository.claim_due(conn, limit)
            for job in jobs:
                await self._poll(conn, job)
            return len(jobs)

    async def _poll(self, conn: Connection, job: TrackedJob) -> None:
        state = await self._inspector.state(job.id)
        now = datetime.now(UTC)
        if state.state == "running":
            if now >= job.deadline_at:
                await self._inspector.cancel(job.id)
                await self._finish(
                    conn,
                    job,
                    Outcome(
                        "canceled",
                        now,
                        None,
                        None,
                        None,
                        f"canceled after {self._timeout_s:.0f} s without finishing",
                    ),
                )
            else:
                await repository.reschedule(
                    conn, job.id, poll_delay(job.polls, self._max_interval_s)
                )
            return
        await self._finish(conn, job, await self._outcome(job, state, now))

    async def _outcome(self, job: TrackedJob, state: JobState, now: datetime) -> Outcome:
        duration = (
            int((state.ended - state.started).total_seconds() * 1000)
            if state.started and state.ended
            else None
        )
        if state.state == "failed":
            return Outcome(
                "failed", state.ended or now, None, duration, state.bytes_billed, state.error
            )
        members, entered = await self._inspector.counts(job.target_table, job.build_time)
        return Outcome(
            "done",
            state.ended or now,
            members,
            duration,
            state.bytes_billed,
            None,
            entered=entered,
            exited=_exited(job, state, members, entered),
        )

    async def _finish(self, conn: Connection, job: TrackedJob, outcome: Outcome) -> None:
        await repository.record_outcome(conn, job, outcome)
        await enqueue(
            conn,
            JobCompleted(
                source=SOURCE,
                accountid=job.account_id,
                correlationid=job.correlation_id,
                data=JobCompletedData(
                    segment_id=job.segment_id,
                    job_id=job.id,
                    status=BuildStatus(outcome.status),
                    rules_version=job.rules_version,
                    member_count=outcome.member_count,
                    built_at=outcome.finished_at,
                    duration_ms=outcome.duration_ms,
                    bytes_billed=outcome.bytes_billed,
                    error=outcome.error,
                    run_id=job.run_id,
                    entered=outcome.entered,
                    exited=outcome.exited,
                ),
            ),
        )
        parents = await repository.parents_of(conn, job.segment_id)
        if outcome.status == "done" and parents:
            await enqueue(
                conn,
                CascadeRequested(
                    source=SOURCE,
                    accountid=job.account_id,
                    correlationid=job.correlation_id,
                    data=CascadeRequestedData(
                        origin_segment_id=job.segment_id,
                        parent_segment_ids=parents,
                        cascade_id=uuid4(),
                    ),
                ),
            )
        log.info(
            "job_finished",
            job_id=job.id,
            status=outcome.status,
            members=outcome.member_count,
            error=outcome.error,
        )
