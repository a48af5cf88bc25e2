"""The build use case: a segment change or build request becomes a submitted job."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import structlog

from compiler import statements
from compiler.errors import RuleSetInvalidError
from compiler.predicates import build_date_value
from compiler.service import repository
from compiler.service.ports import Clock, JobSubmitter, SegmentRecord
from compiler.statements import BUILD_TIME_PARAM
from contracts.messages import (
    BuildMode,
    BuildRequested,
    BuildStatus,
    JobCompleted,
    JobCompletedData,
    JobSubmitted,
    JobSubmittedData,
    SegmentChanged,
)
from contracts.warehouse import dataset_id, segment_table
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Connection, Pool
from segment_runtime.idempotency import handle_once
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)
CONSUMER = "compiler"
SOURCE = "compiler"


def job_id_for(segment_id: UUID, version: int, cause: UUID) -> str:
    """Deterministic per cause, so a redelivered message re-submits the same job."""
    return f"seg_{segment_id.hex}_v{version}_{cause.hex[:12]}"


class BuildService:
    def __init__(self, pool: Pool, submitter: JobSubmitter, clock: Clock) -> None:
        self._pool = pool
        self._submitter = submitter
        self._clock = clock

    async def on_segment_changed(self, event: SegmentChanged) -> None:
        data = event.data
        if data.change == "deleted":
            table = (
                f"{self._submitter.project()}.{dataset_id(event.accountid)}."
                f"{segment_table(data.segment_id)}"
            )
            await self._submitter.drop_table(table)
            return
        if data.change == "archived" or not data.rules_changed:
            return

        async def effect(conn: Connection) -> None:
            await self._build(
                conn,
                account_id=event.accountid,
                segment_id=data.segment_id,
                version=data.rules_version,
                mode=BuildMode.BUILD,
                cause=event.id,
                correlation=event.correlationid,
                run_id=None,
            )

        await handle_once(self._pool, CONSUMER, event.id, effect)

    async def on_build_requested(self, event: BuildRequested) -> None:
        data = event.data

        async def effect(conn: Connection) -> None:
            await self._build(
                conn,
                account_id=event.accountid,
                segment_id=data.segment_id,
                version=None,
                mode=data.mode,
                cause=event.id,
                correlation=event.correlationid,
                run_id=data.run_id,
            )

        await handle_once(self._pool, CONSUMER, event.id, effect)

    async def _build(
        self,
        conn: Connection,
        *,
        account_id: UUID,
        segment_id: UUID,
        version: int | None,
        mode: BuildMode,
        cause: UUID,
        correlation: UUID,
        run_id: UUID | None,
    ) -> None:
        segment = await repository.load_segment(conn, segment_id)
        if segment is None or segment.account_id != account_id:
            log.warning("build_skipped_unknown_segment", segment_id=str(segment_id))
            return
        if segment.status != "active" or (version is not None and segment.rules_version > version):
            # Archived, or a newer change is on its way and will build the newer rules.
            return
        target = statements.Target(self._submitter.project(), dataset_id(account_id))
        table = segment_table(segment_id)
        # MERGE keeps entered/exited counts, but needs the table; the first build creates it.
        mode = mode if segment.built else BuildMode.BUILD
        catalog = await account_catalog(conn, account_id)
        try:
            membership = (
                statements.membership(segment.rules, target, catalog)
                if segment.rules is not None
                # The default "All Data" segment has no rules: every object is a member.
                else statements.everyone(segment.object_type, target, catalog)
            )
        except RuleSetInvalidError as exc:
            await self._fail(
                conn, segment, str(exc), cause=cause, correlation=correlation, run_id=run_id
            )
            return
        compiled = (statements.build if mode is BuildMode.BUILD else statements.refresh)(
            membership, table
        )
        build_time = self._clock.now()
        params = compiled.bind(
            {**build_date_value(self._clock.today(segment.time_zone)), BUILD_TIME_PARAM: build_time}
        )
        job_id = job_id_for(segment_id, segment.rules_version, cause)
        await self._submitter.submit(
            job_id,
            compiled.sql,
            params,
            {
                "account_id": account_id.hex,
                "segment_id": segment_id.hex,
                "mode": mode.value,
            },
        )
        await repository.set_build_status(conn, segment_id, BuildStatus.IN_PROGRESS)
        await enqueue(
            conn,
            JobSubmitted(
                source=SOURCE,
                accountid=account_id,
                correlationid=correlation,
                data=JobSubmittedData(
                    segment_id=segment_id,
                    job_id=job_id,
                    mode=mode,
                    rules_version=segment.rules_version,
                    run_id=run_id,
                    table=target.name(table),
                    build_time=build_time,
                ),
            ),
        )
        log.info("job_submitted", segment_id=str(segment_id), job_id=job_id)

    async def _fail(
        self,
        conn: Connection,
        segment: SegmentRecord,
        reason: str,
        *,
        cause: UUID,
        correlation: UUID,
        run_id: UUID | None,
    ) -> None:
        """A rule set that no longer compiles (say, the catalog changed) fails its build."""
        await repository.set_build_status(conn, segment.id, BuildStatus.FAILED, reason)
        await enqueue(
            conn,
            JobCompleted(
                source=SOURCE,
                accountid=segment.account_id,
                correlationid=correlation,
                data=JobCompletedData(
                    segment_id=segment.id,
                    job_id=f"compile_{cause.hex}",
                    status=BuildStatus.FAILED,
                    rules_version=segment.rules_version,
                    error=reason,
                    run_id=run_id,
                    built_at=datetime.now(UTC),
                ),
            ),
        )
