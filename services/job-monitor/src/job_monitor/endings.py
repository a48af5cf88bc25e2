"""A job's end: what it did to the segment's membership log (read back by build id), the
record of its outcome, and `job.completed`, in the transaction that records it."""

from __future__ import annotations

import asyncio
import dataclasses

import structlog

from contracts.clock import Clock
from contracts.envelope import Cause
from contracts.messages import JobCompleted, JobCompletedData, JobOutcome
from contracts.warehouse import log_of
from job_monitor import repository
from job_monitor.membership import BuildChanges
from job_monitor.ports import JobInspector, JobState, NotFoundError
from job_monitor.repository import Outcome, TrackedJob
from segment_runtime.db import Pool
from segment_runtime.metrics import BYTES_BILLED, JOB_SECONDS
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)
SOURCE = "job-monitor"


class JobEnds:
    def __init__(self, pool: Pool, inspector: JobInspector, clock: Clock) -> None:
        self._pool = pool
        self._inspector = inspector
        self._clock = clock
        # Set when a job's end leaves an announcement owed (the announcer waits on it).
        self.owed = asyncio.Event()

    def outcome(self, state: JobState) -> Outcome:
        duration = (
            int((state.ended - state.started).total_seconds() * 1000)
            if state.started and state.ended
            else None
        )
        status = "failed" if state.state == "failed" else "done"
        return Outcome(
            status,
            state.ended or self._clock.now(),
            None,
            duration,
            state.bytes_billed,
            state.error,
        )

    async def _changes(self, job: TrackedJob, outcome: Outcome) -> BuildChanges | None:
        """How many the build's MERGE let in and out, read back from the log by build id
        (who they are is announced after, off the build's critical path). A done job
        must be read (an error fails this check, to be tried again); for a failed or
        canceled one the log is asked too, since a warehouse that applied the statement
        before failing the job would otherwise leave changes no build accounts for."""
        done = outcome.status == "done"
        try:
            found = await self._inspector.changes(
                log_of(job.target_table), job.build_id, job.build_time, ids=False
            )
        except NotFoundError:
            if done:
                raise
            return None
        except Exception as exc:
            if done:
                raise
            # The warehouse that failed the job may not answer this either: the failure is
            # recorded without counts rather than left running.
            log.warning("failed_job_changes_unread", job_id=job.id, error=repr(exc))
            return None
        return found if done or found.changed else None

    async def finish(self, job: TrackedJob, outcome: Outcome, *, read_log: bool = True) -> None:
        """Record the job's end and tell it (job.completed), once; with its log's counts."""
        changes = await self._changes(job, outcome) if read_log else None
        if changes is not None:
            outcome = dataclasses.replace(
                outcome,
                member_count=changes.members if outcome.status == "done" else None,
                entered=changes.entered,
                exited=changes.exited,
            )
        async with self._pool.acquire() as conn, conn.transaction():
            # Who entered and left is owed from here on, in the same transaction as the
            # job's end: announced once, whatever kills the monitor when.
            if not await repository.record_outcome(
                conn, job, outcome, announce=changes is not None
            ):
                return
            if outcome.duration_ms is not None:
                JOB_SECONDS.labels(outcome.status).observe(outcome.duration_ms / 1000)
            BYTES_BILLED.inc(outcome.bytes_billed or 0)
            await enqueue(conn, completed(job, outcome))
        if changes is not None:
            self.owed.set()
        log.info(
            "job_finished",
            job_id=job.id,
            build_id=str(job.build_id),
            status=outcome.status,
            members=outcome.member_count,
            error=outcome.error,
        )


def completed(job: TrackedJob, outcome: Outcome) -> JobCompleted:
    """The fact of the job's end (told once when recorded, re-stated when asked)."""
    return JobCompleted.caused_by(
        Cause(job.account_id, job.correlation_id),
        SOURCE,
        data=JobCompletedData(
            build_id=job.build_id,
            segment_id=job.segment_id,
            job_id=job.id,
            status=JobOutcome(outcome.status),
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
    )
