"""The build use case: a build the scheduler asks for becomes a submitted BigQuery job.

The compiler decides nothing about when or whether to build: it answers the
scheduler's `build.requested` command and states what happened as facts
(`job.submitted`, or `job.completed` when no job could be made).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import structlog

from compiler import statements
from compiler.errors import RuleSetInvalidError
from compiler.service import repository
from compiler.service.ports import Clock, JobRefusedError, JobSubmitter
from compiler.sql import Target
from contracts.messages import (
    BuildMode,
    BuildRequested,
    ChangeKind,
    JobCompleted,
    JobCompletedData,
    JobOutcome,
    JobSubmitted,
    JobSubmittedData,
    SegmentChanged,
)
from contracts.warehouse import dataset_id, log_of, membership_log_table, segment_table
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Connection, Pool
from segment_runtime.idempotency import handle_once
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)
CONSUMER = "compiler"
SOURCE = "compiler"


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

    async def on_segment_changed(self, event: SegmentChanged) -> None:
        """A deleted segment's member view and membership log go with it."""
        if event.data.change is ChangeKind.DELETED:
            self._prepared.discard(event.data.segment_id)
            member_table = self._table(event.accountid, event.data.segment_id)
            await self._submitter.drop_table(member_table)
            await self._submitter.drop_table(log_of(member_table))

    def _table(self, account_id: UUID, segment_id: UUID) -> str:
        return f"{self._submitter.project()}.{dataset_id(account_id)}.{segment_table(segment_id)}"

    async def on_build_requested(self, event: BuildRequested) -> None:
        async def effect(conn: Connection) -> None:
            await self._build(conn, event)

        await handle_once(self._pool, CONSUMER, event.id, effect)

    async def _build(self, conn: Connection, event: BuildRequested) -> None:
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
        try:
            membership = (
                statements.membership(segment.rules, target, catalog)
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
        }
        try:
            if segment.id not in self._prepared:
                await self._submitter.prepare_membership(
                    target.name(log_table),
                    target.name(table),
                    statements.member_view(target, log_table).sql,
                )
                self._prepared.add(segment.id)
            await self._submitter.submit(job_id, compiled.sql, params, labels)
        except JobRefusedError as exc:
            # BigQuery refused the statement, or the log it writes: no retry makes it valid.
            await self._ended(conn, event, JobOutcome.FAILED, str(exc), segment.rules_version)
            return
        await enqueue(
            conn,
            JobSubmitted(
                source=SOURCE,
                accountid=segment.account_id,
                correlationid=event.correlationid,
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
        event: BuildRequested,
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
            JobCompleted(
                source=SOURCE,
                accountid=event.accountid,
                correlationid=event.correlationid,
                data=JobCompletedData(
                    build_id=data.build_id,
                    segment_id=data.segment_id,
                    job_id=f"compile_{data.build_id.hex}",
                    status=outcome,
                    rules_version=rules_version or data.rules_version,
                    error=reason,
                    run_id=data.run_id,
                    built_at=datetime.now(UTC),
                ),
            ),
        )
