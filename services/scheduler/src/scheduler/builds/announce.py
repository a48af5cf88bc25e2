"""Telling: each build's move projects the segment's status and is announced
(`build.changed`); a refresh run's progress is counted and its end recorded."""

from __future__ import annotations

from uuid import UUID

import structlog

from contracts.messages import BuildChanged, BuildChangedData, BuildState, RunProgress
from scheduler import repository
from scheduler.builds.context import SOURCE, Tx
from scheduler.repository import Build
from segment_runtime.metrics import BUILDS
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)


async def announce(tx: Tx, build: Build, run: RunProgress | None = None) -> None:
    """Project the segment's status and tell everyone (build.changed)."""
    shown = await repository.projection(tx.conn, build.segment_id)
    # An older build ending while a newer one waits updates the table's size and time,
    # but the status stays the newer build's.
    newest = (
        shown.requested_at is None
        or shown.build_id == build.id
        or shown.requested_at <= build.requested_at
    )
    await repository.project(tx.conn, build, show_state=newest)
    # A run's counts change when a build of it is queued or ends; submitted and
    # running are told without them (they would cost a count per message).
    counted = build.state is BuildState.REQUESTED or build.state.terminal
    if run is None and build.run_id is not None and counted:
        run, _ = await _counted(tx, build.run_id)
    await enqueue(
        tx.conn,
        BuildChanged.caused_by(
            tx.cause,
            SOURCE,
            data=BuildChangedData(
                build_id=build.id,
                segment_id=build.segment_id,
                state=build.state,
                status=build.state.status,
                cause=build.cause,
                rules_version=build.rules_version,
                since=build.updated_at,
                reason=build.reason,
                job_id=build.job_id,
                member_count=build.member_count,
                entered=build.entered,
                exited=build.exited,
                built_at=build.finished_at if build.state is BuildState.DONE else None,
                anomaly=build.anomaly,
                waiting=build.waiting,
                run=run,
                owner=shown.owner,
            ),
        ),
    )
    BUILDS.labels(build.state.value).inc()
    log.info(
        "build_changed",
        build_id=str(build.id),
        segment_id=str(build.segment_id),
        state=build.state.value,
        cause=build.cause.value,
        reason=build.reason,
    )


async def _counted(tx: Tx, run_id: UUID) -> tuple[RunProgress, str | None]:
    """The run's progress, and its state as recorded (finished once recorded so)."""
    counts = await repository.run_counts(tx.conn, run_id)
    open_count = sum(counts.get(s, 0) for s in repository.OPEN_STATES)
    recorded, planned = await repository.run_state(tx.conn, run_id)
    # The total is what the run set out to build, fixed when it started: counting the
    # builds queued so far made it grow push by push while the run was being queued.
    total = max(planned or 0, sum(counts.values()))
    progress = RunProgress(
        run_id=run_id,
        state="finished" if recorded == "finished" or open_count == 0 else "running",
        total=total,
        counts=counts,
        ended=sum(n for state, n in counts.items() if state not in repository.OPEN_STATES),
    )
    return progress, recorded


async def progress(tx: Tx, run_id: UUID) -> None:
    """Record a run as finished once none of its builds is open."""
    counted, recorded = await _counted(tx, run_id)
    if counted.state == "finished" and recorded == "running":
        await repository.finish_run(tx.conn, run_id, {"total": counted.total, **counted.counts})
        log.info("refresh_finished", run_id=str(run_id), total=counted.total, **counted.counts)
