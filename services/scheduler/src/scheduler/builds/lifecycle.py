"""A build's state machine: queued (requested), moved along by facts, and what its end
decides (a cascade to the segments that embed it, or skipping what depended on it)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from contracts.messages import BuildCause, BuildMode, BuildState, CancelJob, CancelJobData
from scheduler import graph, repository
from scheduler.builds.announce import announce, progress
from scheduler.builds.context import IN_FLIGHT, SOURCE, Tx
from scheduler.repository import Build
from segment_runtime.outbox import enqueue


async def request(
    tx: Tx,
    segment_id: UUID,
    cause: BuildCause,
    mode: BuildMode,
    *,
    version: int | None = None,
    run_id: UUID | None = None,
    origin: UUID | None = None,
) -> Build | None:
    """Queue a build of the segment, or let one already open answer the request."""
    segment = await repository.segment(tx.conn, segment_id)
    if segment is None or segment.account_id != tx.account_id or segment.status != "active":
        return None
    version = max(version or 1, segment.rules_version)
    for build in await repository.open_builds_of(tx.conn, segment_id):
        if build.queued:
            return await repository.merge_into_queued(
                tx.conn, build.id, mode=mode, run_id=run_id, rules_version=version
            )
        # A build in flight already answers a request for the rules it builds; only
        # newer rules, or a dependency rebuilt after it started reading, need another.
        if cause is not BuildCause.CASCADE and build.rules_version >= version:
            return build
    tx.ended = None
    build = await repository.insert_build(
        tx.conn,
        build_id=uuid4(),
        account_id=tx.account_id,
        segment_id=segment_id,
        cause=cause,
        mode=mode,
        run_id=run_id,
        origin_segment_id=origin,
        rules_version=version,
    )
    await announce(tx, build)
    return build


async def cancel_segment(tx: Tx, segment_id: UUID, reason: str, *, stop_jobs: bool) -> None:
    """Cancel the segment's open builds; with `stop_jobs` (it was deleted) their jobs too."""
    for build in await repository.open_builds_of(tx.conn, segment_id):
        await cancel(tx, build, reason, stop_job=stop_jobs)


async def cancel(tx: Tx, build: Build, reason: str, *, stop_job: bool) -> None:
    """Cancel the build. With `stop_job`, its job (if one was submitted) is stopped too:
    the owner decides, the job monitor carries it out (CancelJob). An archived segment's
    job runs on: what it commits is still its own, and a later build starts from it."""
    moved = await move(tx, build.id, BuildState.CANCELED, IN_FLIGHT, reason=reason)
    if moved is None or not stop_job or build.job_id is None:
        return
    await enqueue(
        tx.conn,
        CancelJob.caused_by(
            tx.cause,
            SOURCE,
            CancelJobData(
                build_id=build.id, segment_id=build.segment_id, job_id=build.job_id, reason=reason
            ),
        ),
    )


async def move(
    tx: Tx,
    build_id: UUID,
    to: BuildState,
    allowed_from: tuple[BuildState, ...],
    *,
    reason: str | None = None,
    **fields: str | int | datetime | None,
) -> Build | None:
    """One step of a build's state machine, recorded and told; an ended build goes on
    to what its end decides (cascade, or skipping what depends on it)."""
    build = await repository.transition(
        tx.conn, build_id, to, allowed_from=allowed_from, reason=reason, **fields
    )
    if build is None:
        return None
    if to.terminal:
        await _finished(tx, build)
    else:
        await announce(tx, build)
    return build


async def _finished(tx: Tx, build: Build) -> None:
    """A build ended: announce it, then cascade (done) or skip its dependents."""
    if tx.ended is not None:
        tx.ended.add(build.segment_id)
    await announce(tx, build)
    embeds = await tx.embeds()
    if build.state is BuildState.DONE:
        # A refresh run queued every segment already: its ancestors wait in the run (or
        # were skipped in it, say over the cost threshold, and must stay skipped).
        if build.cause is not BuildCause.REFRESH:
            above = graph.ancestors(await tx.parents(), build.segment_id)
            for ancestor in sorted(above, key=str):
                await request(
                    tx,
                    ancestor,
                    BuildCause.CASCADE,
                    BuildMode.REFRESH,
                    run_id=build.run_id,
                    origin=build.segment_id,
                )
    else:
        waiting = (await repository.open_set(tx.conn, tx.account_id)).queued
        queued = await repository.queued_builds(tx.conn, list(waiting))
        for d in graph.skip_dependents(
            embeds, queued, build.segment_id, build.state.value, await tx.label()
        ):
            await skip(tx, queued[d.segment_id], d.reason or "skipped")
    if build.run_id is not None:
        await progress(tx, build.run_id)


async def skip(tx: Tx, build: Build, reason: str) -> None:
    skipped = await repository.transition(
        tx.conn,
        build.id,
        BuildState.SKIPPED,
        allowed_from=(BuildState.REQUESTED,),
        reason=reason,
    )
    if skipped is not None:
        await announce(tx, skipped)
        if skipped.run_id is not None:
            await progress(tx, skipped.run_id)
