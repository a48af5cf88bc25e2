"""The one owner of builds: it decides what builds when, and records every build's life.

Inputs are facts (segment.changed, job.submitted, job.started, job.completed) and
one command (cascade.requested). Each is handled once, under the account's lock,
in one transaction that moves the builds along their state machine, updates the
segments' projected status, announces each change (`build.changed`) and sends the
compiler the builds that may start now (`build.requested`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import structlog

from contracts.messages import (
    BuildCause,
    BuildChanged,
    BuildChangedData,
    BuildMode,
    BuildRequested,
    BuildRequestedData,
    BuildState,
    CascadeRequested,
    ChangeKind,
    JobCompleted,
    JobOutcome,
    JobStarted,
    JobSubmitted,
    RunProgress,
    SegmentChanged,
)
from scheduler import graph, repository
from scheduler.repository import Build
from segment_runtime.db import Connection, Pool
from segment_runtime.idempotency import handle_once
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)
SOURCE = "scheduler"
CONSUMER = "scheduler"

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
_IN_FLIGHT = (BuildState.REQUESTED, BuildState.SUBMITTED, BuildState.RUNNING)


def gigabytes(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


@dataclass
class Tx:
    """One decision's context: the connection, the account and the correlation id."""

    conn: Connection
    account_id: UUID
    correlation: UUID


class BuildOwner:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    # --- inputs ------------------------------------------------------------------------------

    async def on_segment_changed(self, event: SegmentChanged) -> None:
        d = event.data

        async def decide(tx: Tx) -> None:
            if d.change in (ChangeKind.ARCHIVED, ChangeKind.DELETED):
                await self._cancel_segment(tx, d.segment_id, f"segment {d.change.value}")
                if d.change is ChangeKind.DELETED:
                    await repository.forget_projection(tx.conn, d.segment_id)
            elif d.change in _CHANGE_CAUSES and d.rules_changed:
                await self._request(
                    tx,
                    d.segment_id,
                    _CHANGE_CAUSES[d.change],
                    BuildMode.BUILD,
                    version=d.rules_version,
                )

        await self._once(event.id, event.accountid, event.correlationid, decide)

    async def on_cascade_requested(self, event: CascadeRequested) -> None:
        d = event.data

        async def decide(tx: Tx) -> None:
            if d.scope == "account":
                await self._start_run(tx, d.run_id or event.id, datetime.now(UTC), "manual")
                return
            for segment_id in d.segment_ids:
                # Its ancestors follow when it is done (see _finished): each once, in order.
                await self._request(tx, segment_id, BuildCause.REBUILD, BuildMode.BUILD)

        await self._once(event.id, event.accountid, event.correlationid, decide)

    async def on_job_submitted(self, event: JobSubmitted) -> None:
        d = event.data

        async def decide(tx: Tx) -> None:
            build = await repository.transition(
                tx.conn,
                d.build_id,
                BuildState.SUBMITTED,
                allowed_from=(BuildState.REQUESTED,),
                job_id=d.job_id,
                rules_version=d.rules_version,
            )
            if build is not None:
                await self._announce(tx, build)

        await self._once(event.id, event.accountid, event.correlationid, decide, advance=False)

    async def on_job_started(self, event: JobStarted) -> None:
        d = event.data

        async def decide(tx: Tx) -> None:
            build = await repository.transition(
                tx.conn,
                d.build_id,
                BuildState.RUNNING,
                allowed_from=(BuildState.REQUESTED, BuildState.SUBMITTED),
                job_id=d.job_id,
            )
            if build is not None:
                await self._announce(tx, build)

        await self._once(event.id, event.accountid, event.correlationid, decide, advance=False)

    async def on_job_completed(self, event: JobCompleted) -> None:
        d = event.data

        async def decide(tx: Tx) -> None:
            build = await repository.transition(
                tx.conn,
                d.build_id,
                _OUTCOME_STATES[d.status],
                allowed_from=_IN_FLIGHT,
                reason=d.error,
                job_id=d.job_id,
                member_count=d.member_count,
                entered=d.entered,
                exited=d.exited,
                bytes_billed=d.bytes_billed,
                duration_ms=d.duration_ms,
            )
            if build is None:
                return  # already ended (canceled by a delete, or a repeated fact)
            await self._finished(tx, build)

        await self._once(event.id, event.accountid, event.correlationid, decide)

    async def start_refresh(
        self, account_id: UUID, scheduled_for: datetime, trigger: str, run_id: UUID | None = None
    ) -> bool:
        """A refresh run over the account's active segments; False if it already ran."""
        run = run_id or uuid4()
        started: list[bool] = []

        async def decide(tx: Tx) -> None:
            started.append(await self._start_run(tx, run, scheduled_for, trigger))

        await self._locked(account_id, run, decide)
        return started[0]

    # --- what the reconciler re-drives -------------------------------------------------------

    async def advance(self, account_id: UUID) -> None:
        """Dispatch whatever may start now (a wake-up that a lost message never gave)."""
        await self._locked(account_id, uuid4(), _nothing)

    async def redispatch(self, build: Build, max_attempts: int, waited_s: float) -> None:
        async def decide(tx: Tx) -> None:
            current = await repository.get_build(tx.conn, build.id)
            # Sent and unanswered, or submitted to a job the job monitor never heard of.
            resendable = (BuildState.REQUESTED, BuildState.SUBMITTED, BuildState.RUNNING)
            if current is None or current.state not in resendable or current.queued:
                return
            if current.attempts >= max_attempts:
                failed = await repository.transition(
                    tx.conn,
                    build.id,
                    BuildState.FAILED,
                    allowed_from=resendable,
                    reason=f"the compiler did not take the build in {current.attempts} attempts",
                )
                if failed is not None:
                    await self._finished(tx, failed)
                return
            note = (
                f"re-sent to the compiler (attempt {current.attempts + 1}):"
                f" no answer in {waited_s:.0f} s"
            )
            await self._dispatch(tx, current, note)

        await self._locked(build.account_id, uuid4(), decide)

    async def adopt_job(self, build: Build, job_id: str) -> None:
        """The job monitor follows a job for this build: only job.submitted was lost."""

        async def decide(tx: Tx) -> None:
            submitted = await repository.transition(
                tx.conn,
                build.id,
                BuildState.SUBMITTED,
                allowed_from=(BuildState.REQUESTED,),
                job_id=job_id,
            )
            if submitted is not None:
                await self._announce(tx, submitted)

        await self._locked(build.account_id, uuid4(), decide)

    async def settle(
        self, build: Build, state: BuildState, reason: str | None, **fields: str | int | None
    ) -> None:
        """End a build the job monitor's facts never reached (applied from its jobs table)."""

        async def decide(tx: Tx) -> None:
            ended = await repository.transition(
                tx.conn, build.id, state, allowed_from=_IN_FLIGHT, reason=reason, **fields
            )
            if ended is not None:
                await self._finished(tx, ended)

        await self._locked(build.account_id, uuid4(), decide)

    async def cancel_orphan(self, build: Build, reason: str) -> None:
        async def decide(tx: Tx) -> None:
            canceled = await repository.transition(
                tx.conn, build.id, BuildState.CANCELED, allowed_from=_IN_FLIGHT, reason=reason
            )
            if canceled is not None:
                await self._finished(tx, canceled)

        await self._locked(build.account_id, uuid4(), decide)

    async def recover_change(self, segment: repository.SegmentInfo) -> None:
        async def decide(tx: Tx) -> None:
            await self._request(tx, segment.id, BuildCause.RECOVERY, BuildMode.BUILD)

        await self._locked(segment.account_id, uuid4(), decide)

    # --- decisions ---------------------------------------------------------------------------

    async def _once(
        self,
        message_id: UUID,
        account_id: UUID,
        correlation: UUID,
        decide: Callable[[Tx], Awaitable[None]],
        *,
        advance: bool = True,
    ) -> None:
        async def effect(conn: Connection) -> None:
            await repository.lock_account(conn, account_id)
            tx = Tx(conn, account_id, correlation)
            await decide(tx)
            if advance:
                await self._advance(tx)

        await handle_once(self._pool, CONSUMER, message_id, effect)

    async def _locked(
        self, account_id: UUID, correlation: UUID, decide: Callable[[Tx], Awaitable[None]]
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.lock_account(conn, account_id)
            tx = Tx(conn, account_id, correlation)
            await decide(tx)
            await self._advance(tx)

    async def _request(
        self,
        tx: Tx,
        segment_id: UUID,
        cause: BuildCause,
        mode: BuildMode,
        *,
        version: int | None = None,
        run_id: UUID | None = None,
        origin: UUID | None = None,
    ) -> Build | None:
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
        await self._announce(tx, build)
        return build

    async def _start_run(self, tx: Tx, run_id: UUID, scheduled_for: datetime, trigger: str) -> bool:
        segments = await repository.active_segments(tx.conn, tx.account_id)
        if not await repository.start_run(
            tx.conn,
            run_id,
            tx.account_id,
            scheduled_for=scheduled_for,
            trigger=trigger,
            segment_count=len(segments),
        ):
            return False
        for segment_id in segments:
            await self._request(
                tx, segment_id, BuildCause.REFRESH, BuildMode.REFRESH, run_id=run_id
            )
        await self._progress(tx, run_id)
        log.info(
            "refresh_started",
            account_id=str(tx.account_id),
            run_id=str(run_id),
            segments=len(segments),
        )
        return True

    async def _cancel_segment(self, tx: Tx, segment_id: UUID, reason: str) -> None:
        # Deleting also cancels the job: the job monitor stops following a job whose
        # segment is gone, cancels it in BigQuery and drops what it wrote.
        for build in await repository.open_builds_of(tx.conn, segment_id):
            canceled = await repository.transition(
                tx.conn, build.id, BuildState.CANCELED, allowed_from=_IN_FLIGHT, reason=reason
            )
            if canceled is not None:
                await self._finished(tx, canceled)

    async def _finished(self, tx: Tx, build: Build) -> None:
        """A build ended: announce it, then cascade (done) or skip its dependents."""
        await self._announce(tx, build)
        embeds = await repository.embeds(tx.conn, tx.account_id)
        if build.state is BuildState.DONE:
            # A refresh run queued every segment already: its ancestors wait in the run (or
            # were skipped in it, say over the cost threshold, and must stay skipped).
            if build.cause is not BuildCause.REFRESH:
                for ancestor in sorted(graph.ancestors(embeds, build.segment_id), key=str):
                    await self._request(
                        tx,
                        ancestor,
                        BuildCause.CASCADE,
                        BuildMode.REFRESH,
                        run_id=build.run_id,
                        origin=build.segment_id,
                    )
        else:
            names = await repository.names(tx.conn, tx.account_id)
            queued = {
                b.segment_id: b
                for b in await repository.open_builds(tx.conn, tx.account_id)
                if b.queued
            }
            for d in graph.skip_dependents(
                embeds, queued, build.segment_id, build.state.value, _labeller(names)
            ):
                await self._skip(tx, queued[d.segment_id], d.reason or "skipped")
        if build.run_id is not None:
            await self._progress(tx, build.run_id)

    async def _skip(self, tx: Tx, build: Build, reason: str) -> None:
        skipped = await repository.transition(
            tx.conn,
            build.id,
            BuildState.SKIPPED,
            allowed_from=(BuildState.REQUESTED,),
            reason=reason,
        )
        if skipped is not None:
            await self._announce(tx, skipped)
            if skipped.run_id is not None:
                await self._progress(tx, skipped.run_id)

    async def _advance(self, tx: Tx) -> None:
        """Skip what must be skipped, send the compiler every build that may start now."""
        open_builds = await repository.open_builds(tx.conn, tx.account_id)
        queued = {b.segment_id: b for b in open_builds if b.queued}
        if not queued:
            return
        busy = frozenset(b.segment_id for b in open_builds if not b.queued)
        embeds = await repository.embeds(tx.conn, tx.account_id)
        names = await repository.names(tx.conn, tx.account_id)
        threshold = await repository.cost_threshold(tx.conn, tx.account_id)
        refreshes = [s for s, b in queued.items() if b.cause is BuildCause.REFRESH]
        over_cost = {
            s: f"over the cost threshold: last build billed {gigabytes(n)} > {gigabytes(threshold)}"
            for s, n in (await repository.last_bytes_billed(tx.conn, refreshes)).items()
            if n > threshold
        }
        snapshot = graph.Snapshot(embeds, frozenset(queued), busy, over_cost)
        for d in graph.next_steps(snapshot, _labeller(names)):
            if d.action == "skip":
                await self._skip(tx, queued[d.segment_id], d.reason or "skipped")
            else:
                await self._dispatch(tx, queued[d.segment_id], None)

    async def _dispatch(self, tx: Tx, build: Build, note: str | None) -> None:
        sent = await repository.mark_dispatched(tx.conn, build.id, note)
        await enqueue(
            tx.conn,
            BuildRequested(
                source=SOURCE,
                accountid=tx.account_id,
                correlationid=tx.correlation,
                data=BuildRequestedData(
                    build_id=sent.id,
                    segment_id=sent.segment_id,
                    mode=sent.mode,
                    cause=sent.cause,
                    rules_version=sent.rules_version,
                    run_id=sent.run_id,
                    attempt=sent.attempts,
                ),
            ),
        )
        if note:
            await self._announce(tx, sent)

    async def _announce(self, tx: Tx, build: Build, run: RunProgress | None = None) -> None:
        """Project the segment's status and tell everyone (build.changed)."""
        shown = await repository.projection(tx.conn, build.segment_id)
        # An older build ending while a newer one waits updates the table's size and time,
        # but the status stays the newer build's.
        newest = (
            shown is None or shown.build_id == build.id or shown.requested_at <= build.requested_at
        )
        await repository.project(tx.conn, build, show_state=newest)
        if run is None and build.run_id is not None:
            run = await self._run_progress(tx, build.run_id)
        await enqueue(
            tx.conn,
            BuildChanged(
                source=SOURCE,
                accountid=tx.account_id,
                correlationid=tx.correlation,
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
                    run=run,
                ),
            ),
        )
        log.info(
            "build_changed",
            build_id=str(build.id),
            segment_id=str(build.segment_id),
            state=build.state.value,
            cause=build.cause.value,
            reason=build.reason,
        )

    async def _run_progress(self, tx: Tx, run_id: UUID) -> RunProgress:
        counts = await repository.run_counts(tx.conn, run_id)
        open_count = sum(counts.get(s, 0) for s in repository.OPEN_STATES)
        state = await repository.run_state(tx.conn, run_id)
        return RunProgress(
            run_id=run_id,
            state="finished" if state == "finished" or open_count == 0 else "running",
            total=sum(counts.values()),
            counts=counts,
        )

    async def _progress(self, tx: Tx, run_id: UUID) -> None:
        progress = await self._run_progress(tx, run_id)
        if (
            progress.state == "finished"
            and await repository.run_state(tx.conn, run_id) == "running"
        ):
            await repository.finish_run(
                tx.conn, run_id, {"total": progress.total, **progress.counts}
            )
            log.info(
                "refresh_finished", run_id=str(run_id), total=progress.total, **progress.counts
            )


def _labeller(names: dict[UUID, str]) -> graph.Label:
    return lambda s: f"'{names.get(s, s.hex[:8])}'"


async def _nothing(tx: Tx) -> None:
    del tx
