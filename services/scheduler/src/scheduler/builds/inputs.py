"""What each message decides, inside the owner's transaction (see `owner`)."""

from __future__ import annotations

from uuid import UUID

import structlog

from contracts.messages import (
    BuildCause,
    BuildMode,
    BuildState,
    ChangeKind,
    JobCompletedData,
    JobOutcome,
    JobStartedData,
    JobSubmittedData,
    RebuildSegmentsData,
    SegmentChangedData,
    StartRefreshRunData,
)
from scheduler import anomalies, repository
from scheduler.builds.context import IN_FLIGHT, Tx
from scheduler.builds.lifecycle import cancel_segment, move, request
from scheduler.builds.refresh_runs import start_run
from segment_runtime.metrics import ANOMALIES

log = structlog.get_logger(__name__)

_CHANGE_CAUSES = {
    ChangeKind.CREATED: BuildCause.CREATE,
    ChangeKind.UPDATED: BuildCause.EDIT,
    ChangeKind.UNARCHIVED: BuildCause.UNARCHIVE,
}
_OUTCOME_STATES = {
    JobOutcome.DONE: BuildState.DONE,
    JobOutcome.FAILED: BuildState.FAILED,
    JobOutcome.CANCELED: BuildState.CANCELED,
}


async def segment_changed(tx: Tx, d: SegmentChangedData) -> None:
    if d.change in (ChangeKind.ARCHIVED, ChangeKind.DELETED):
        await cancel_segment(
            tx, d.segment_id, f"segment {d.change.value}", stop_jobs=d.change is ChangeKind.DELETED
        )
        if d.change is ChangeKind.DELETED:
            await repository.forget_projection(tx.conn, d.segment_id)
    elif d.change in _CHANGE_CAUSES and d.rules_changed:
        await request(
            tx, d.segment_id, _CHANGE_CAUSES[d.change], BuildMode.BUILD, version=d.rules_version
        )


async def start_refresh_run(tx: Tx, d: StartRefreshRunData, message_id: UUID) -> None:
    await start_run(tx, d.run_id or message_id, tx.clock.now(), "manual")


async def rebuild_segments(tx: Tx, d: RebuildSegmentsData) -> None:
    for segment_id in d.segment_ids:
        # Its ancestors follow when it is done (see lifecycle): each once, in order.
        await request(tx, segment_id, BuildCause.REBUILD, BuildMode.BUILD)


async def job_submitted(tx: Tx, d: JobSubmittedData) -> None:
    moved = await move(
        tx,
        d.build_id,
        BuildState.SUBMITTED,
        (BuildState.REQUESTED,),
        job_id=d.job_id,
        rules_version=d.rules_version,
        build_time=d.build_time,
    )
    if moved is None and d.build_time is not None:
        # job.started (another topic) overtook it and moved the build on: the build
        # time it carries is still the build's own.
        await repository.record_late_build_time(tx.conn, d.build_id, d.build_time)


async def job_started(tx: Tx, d: JobStartedData) -> None:
    # job.started may overtake job.submitted (another topic): the build still passes
    # through submitted, so every state is recorded and told, in order.
    await move(tx, d.build_id, BuildState.SUBMITTED, (BuildState.REQUESTED,), job_id=d.job_id)
    await move(tx, d.build_id, BuildState.RUNNING, (BuildState.SUBMITTED,), job_id=d.job_id)


async def job_completed(tx: Tx, d: JobCompletedData) -> None:
    flagged = None
    if d.status is JobOutcome.DONE and d.member_count is not None:
        previous = await repository.last_committed_size(tx.conn, d.segment_id, d.build_id)
        thresholds = await repository.anomaly_thresholds(tx.conn, tx.account_id)
        flagged = anomalies.anomaly(previous, d.member_count, thresholds)
    # A build already ended (canceled by a delete, or a repeated fact) stays so.
    moved = await move(
        tx,
        d.build_id,
        _OUTCOME_STATES[d.status],
        IN_FLIGHT,
        reason=d.error,
        job_id=d.job_id,
        member_count=d.member_count,
        entered=d.entered,
        exited=d.exited,
        bytes_billed=d.bytes_billed,
        duration_ms=d.duration_ms,
        anomaly=flagged,
    )
    if moved is None and d.entered is not None and d.exited is not None:
        await repository.record_late_changes(tx.conn, d.build_id, d.entered, d.exited)
    if moved is not None and flagged is not None:
        ANOMALIES.inc()
        log.warning("build_anomaly", build_id=str(d.build_id), anomaly=flagged)
