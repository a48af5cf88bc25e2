"""The build use case: a build the scheduler asks for becomes a submitted BigQuery job.

The compiler decides nothing about when or whether to build: it answers the
scheduler's `build.requested` command and states what happened as facts
(`job.submitted`, or `job.completed` when no job could be made).

A command is kept in the compiler's queue (`build_requests`) as it is consumed, and
workers submit queued builds side by side, fairly across accounts: a refresh run's
layer of forty builds reaches BigQuery at once instead of one partition's message at a
time, and one account's refresh cannot hold up another account's edit.
"""

from __future__ import annotations

import asyncio
import contextlib
from uuid import UUID

import structlog

from compiler import statements
from compiler.errors import RuleSetInvalidError
from compiler.service import repository
from compiler.service.ports import JobRefusedError, JobSubmitter
from compiler.sql import Target
from contracts.clock import Clock
from contracts.envelope import Cause
from contracts.messages import (
    BuildMode,
    ChangeKind,
    JobCompleted,
    JobCompletedData,
    JobOutcome,
    JobSubmitted,
    JobSubmittedData,
    SegmentChanged,
    StartBuild,
)
from contracts.warehouse import dataset_id, log_of, membership_log_table, segment_table
from segment_runtime.catalogs import account_catalog
from segment_runtime.correlation import correlated
from segment_runtime.db import Connection, Pool
from segment_runtime.idempotency import handle_once
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)
CONSUMER = "compiler"
SOURCE = "compiler"
# A claimed build whose worker died is taken again after this (submission retries for
# at most about 30 s per call).
SUBMIT_LEASE_S = 120.0
# A submission that failed for a reason that may pass (BigQuery or Postgres unreachable)
# is tried again after these pauses; after the last, the build fails with the reason.
RETRY_PAUSES_S = (1.0, 2.0, 5.0, 10.0)
# A worker with nothing to do looks again this often: a command this process consumed
# wakes it at once, so the look is for lapsed claims and retries (and other processes').
IDLE_POLL_S = 5.0


def job_id_for(segment_id: UUID, build_id: UUID) -> str:
    """Deterministic per build, so a re-sent command re-submits the same job (a no-op)."""
    return f"seg_{segment_id.hex}_b{build_id.hex}"


class BuildService:
    def __init__(
        self,
        pool: Pool,
        submitter: JobSubmitter,
        clock: Clock,
    ) -> None:
        self._pool = pool
        self._submitter = submitter
        self._clock = clock
        # Segments whose log and member view this process made sure of (an API call each).
        self._prepared: set[UUID] = set()
        self._queued = asyncio.Event()

    async def on_segment_changed(self, event: SegmentChanged) -> None:
        """A deleted segment's member view and membership log go with it."""
        if event.data.change is ChangeKind.DELETED:
            self._prepared.discard(event.data.segment_id)
            member_table = self._table(event.accountid, event.data.segment_id)
            await self._submitter.drop_table(member_table)
            await self._submitter.drop_table(log_of(member_table))

    def _table(self, account_id: UUID, segment_id: UUID) -> str:
        return f"{self._submitter.project()}.{dataset_id(account_id)}.{segment_table(segment_id)}"

    async def on_start_build(self, event: StartBuild) -> None:
        """Queue the command; the message is acknowledged once the queue holds it."""

        async def effect(conn: Connection) -> None:
            await repository.queue_request(conn, event)

        await handle_once(self._pool, CONSUMER, event.id, effect)
        self._queued.set()

    async def submit_queued(self) -> None:
        """One worker: submit queued builds for ever (several run side by side)."""
        while True:
            if await self.submit_next():
                continue
            self._queued.clear()
            if await self.submit_next():  # queued between the first look and the clear
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queued.wait(), IDLE_POLL_S)

    async def drain(self) -> None:
        """Submit everything queued, one at a time (tests; a worker does this for ever)."""
        while await self.submit_next():
            pass

    async def submit_next(self) -> bool:
        """Submit the next queued build; False when none is waiting."""
        async with self._pool.acquire() as conn:
            claimed = await repository.claim_next(conn, SUBMIT_LEASE_S)
        if claimed is None:
            return False
        event = claimed.command
        # Off the consumer's path: the log lines carry the request's id all the same.
        with correlated(
            event.correlationid,
            account_id=event.accountid,
            segment_id=event.data.segment_id,
            build_id=event.data.build_id,
        ):
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    await self._build(conn, event)
                    await repository.forget_request(conn, event.data.build_id)
            except Exception as exc:  # any failure here may pass: it is retried, then reported
                await self._retry_or_fail(event, claimed.attempts, exc)
        return True

    async def _retry_or_fail(self, event: StartBuild, attempts: int, exc: Exception) -> None:
        reason = f"could not be submitted: {exc!r}"
        log.warning(
            "build_submit_failed", build_id=str(event.data.build_id), attempt=attempts, error=reason
        )
        async with self._pool.acquire() as conn, conn.transaction():
            if attempts > len(RETRY_PAUSES_S):
                await self._ended(conn, event, JobOutcome.FAILED, f"{reason} ({attempts} tries)")
                await repository.forget_request(conn, event.data.build_id)
            else:
                await repository.release(conn, event.data.build_id, RETRY_PAUSES_S[attempts - 1])

    async def _build(self, conn: Connection, event: StartBuild) -> None:
        data = event.data
        segment = await repository.load_segment(conn, data.segment_id)
        if segment is None or segment.account_id != event.accountid:
            await self._ended(conn, event, JobOutcome.CANCELED, "the segment no longer exists")
            return
        if segment.status != "active":
            await self._ended(conn, event, JobOutcome.CANCELED, f"the segment is {segment.status}")
            return
        target = Target(self._submitter.project(), dataset_id(segment.account_id))
        table = segment_table(segment.id)
        log_table = membership_log_table(segment.id)
        catalog = await account_catalog(conn, segment.account_id)
        embedded = segment.rules.embedded_segment_ids() if segment.rules else []
        splits = await repository.splits_of(conn, segment.account_id, embedded)
        try:
            membership = (
                statements.membership(segment.rules, target, catalog, splits=splits)
                if segment.rules is not None
                # The default "All Data" segment has no rules: every object is a member.
                else statements.everyone(segment.object_type, target, catalog)
            )
        except RuleSetInvalidError as exc:
            # A rule set that no longer compiles (say, the catalog changed) fails its build.
            await self._ended(conn, event, JobOutcome.FAILED, str(exc), segment.rules_version)
            return
        # Every kind of build is the same MERGE into the log: entered and exited are always
        # relative to the previous committed membership, never to an empty table.
        compiled = statements.record(membership, log_table)
        build_time = self._clock.now()
        params = compiled.bind(
            at=build_time,
            today=self._clock.today(segment.time_zone),
            build_id=str(data.build_id),
            rules_version=segment.rules_version,
        )
        mode = data.mode if segment.built else BuildMode.BUILD
        job_id = job_id_for(segment.id, data.build_id)
        labels = {
            "account_id": segment.account_id.hex,
            "segment_id": segment.id.hex,
            "build_id": data.build_id.hex,
            "mode": mode.value,
            "priority": data.priority.value.lower(),
        }
        try:
            if segment.id not in self._prepared:
                await self._submitter.prepare_membership(
                    target.name(log_table),
                    target.name(table),
                    statements.member_view(target, log_table).sql,
                )
                self._prepared.add(segment.id)
            await self._submitter.submit(job_id, compiled.sql, params, labels, data.priority)
        except JobRefusedError as exc:
            # BigQuery refused the statement, or the log it writes: no retry makes it valid.
            await self._ended(conn, event, JobOutcome.FAILED, str(exc), segment.rules_version)
            return
        await enqueue(
            conn,
            JobSubmitted.caused_by(
                Cause(segment.account_id, event.correlationid),
                SOURCE,
                data=JobSubmittedData(
                    build_id=data.build_id,
                    segment_id=segment.id,
                    job_id=job_id,
                    mode=mode,
                    rules_version=segment.rules_version,
                    run_id=data.run_id,
                    table=target.name(table),
                    build_time=build_time,
                ),
            ),
        )
        log.info(
            "job_submitted", segment_id=str(segment.id), build_id=str(data.build_id), job_id=job_id
        )

    async def _ended(
        self,
        conn: Connection,
        event: StartBuild,
        outcome: JobOutcome,
        reason: str,
        rules_version: int | None = None,
    ) -> None:
        """No job could be made: the build ends here, and the scheduler hears why."""
        data = event.data
        log.warning(
            "build_not_submitted", build_id=str(data.build_id), outcome=outcome.value, reason=reason
        )
        await enqueue(
            conn,
            JobCompleted.caused_by(
                event,
                SOURCE,
                data=JobCompletedData(
                    build_id=data.build_id,
                    segment_id=data.segment_id,
                    job_id=f"compile_{data.build_id.hex}",
                    status=outcome,
                    rules_version=rules_version or data.rules_version,
                    error=reason,
                    run_id=data.run_id,
                    built_at=self._clock.now(),
                ),
            ),
        )
