"""The one owner of builds: it decides what builds when, and records every build's life.

Inputs are facts (segment.changed, job.submitted, job.started, job.completed) and
one command (cascade.requested). Each is handled once, under the account's lock,
in one transaction that moves the builds along their state machine, updates the
segments' projected status, announces each change (`build.changed`) and sends the
compiler the builds that may start now (`build.requested`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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
    JobPriority,
    JobStarted,
    JobSubmitted,
    RunProgress,
    SegmentChanged,
)
from scheduler import anomalies, graph, repository
from scheduler.repository import Build
from segment_runtime.db import Connection, Pool
from segment_runtime.idempotency import handle_once
from segment_runtime.metrics import ANOMALIES, BUILDS, DELAYED_BUILDS
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
    """One decision's context: the connection, the account, the correlation id, and what
    it loaded once (the embedding graph, the names) and touched (where to look next)."""

    conn: Connection
    account_id: UUID
    correlation: UUID
    graphs: GraphCache
    _graph: AccountGraph | None = None
    _names: dict[UUID, str] | None = None
    # Segments whose builds ended here: only they and their parents can have become
    # ready. None means "look at everything" (something new was queued).
    ended: set[UUID] | None = field(default_factory=set)

    async def account_graph(self) -> AccountGraph:
        if self._graph is None:
            self._graph = await self.graphs.get(self.conn, self.account_id)
        return self._graph

    async def embeds(self) -> graph.Embeds:
        return (await self.account_graph()).embeds

    async def parents(self) -> dict[UUID, set[UUID]]:
        return (await self.account_graph()).parents

    async def label(self) -> graph.Label:
        if self._names is None:
            self._names = await repository.names(self.conn, self.account_id)
        return _labeller(self._names)


@dataclass(frozen=True)
class AccountGraph:
    embeds: graph.Embeds
    parents: dict[UUID, set[UUID]]


class GraphCache:
    """Each account's embedding graph, read again only when its segments changed: every
    job's end consults it, and it changes far less often than jobs end."""

    def __init__(self) -> None:
        self._graphs: dict[UUID, tuple[tuple[int, datetime | None], AccountGraph]] = {}

    async def get(self, conn: Connection, account_id: UUID) -> AccountGraph:
        version = await repository.graph_version(conn, account_id)
        cached = self._graphs.get(account_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        embeds = await repository.embeds(conn, account_id)
        loaded = AccountGraph(embeds, graph.parents_of(embeds))
        self._graphs[account_id] = (version, loaded)
        return loaded


class BuildOwner:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._graphs = GraphCache()

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
            await self._move(
                tx,
                d.build_id,
                BuildState.SUBMITTED,
                (BuildState.REQUESTED,),
                job_id=d.job_id,
                rules_version=d.rules_version,
                build_time=d.build_time,
            )

        await self._once(event.id, event.accountid, event.correlationid, decide, plan=False)

    async def on_job_started(self, event: JobStarted) -> None:
        d = event.data

        async def decide(tx: Tx) -> None:
            # job.started may overtake job.submitted (another topic): the build still passes
            # through submitted, so every state is recorded and told, in order.
            await self._move(
                tx, d.build_id, BuildState.SUBMITTED, (BuildState.REQUESTED,), job_id=d.job_id
            )
            await self._move(
                tx, d.build_id, BuildState.RUNNING, (BuildState.SUBMITTED,), job_id=d.job_id
            )

        await self._once(event.id, event.accountid, event.correlationid, decide, plan=False)

    async def on_job_completed(self, event: JobCompleted) -> None:
        d = event.data

        async def decide(tx: Tx) -> None:
            flagged = None
            if d.status is JobOutcome.DONE and d.member_count is not None:
                previous = await repository.last_committed_size(tx.conn, d.segment_id, d.build_id)
                thresholds = await repository.anomaly_thresholds(tx.conn, tx.account_id)
                flagged = anomalies.anomaly(previous, d.member_count, thresholds)
            # A build already ended (canceled by a delete, or a repeated fact) stays so.
            moved = await self._move(
                tx,
                d.build_id,
                _OUTCOME_STATES[d.status],
                _IN_FLIGHT,
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

        async def look_everywhere(tx: Tx) -> None:
            tx.ended = None

        await self._locked(account_id, uuid4(), look_everywhere)

    async def redispatch(self, build: Build, max_attempts: int, waited_s: float) -> None:
        async def decide(tx: Tx) -> None:
            current = await repository.get_build(tx.conn, build.id)
            # Sent and unanswered, or submitted to a job the job monitor never heard of.
            resendable = (BuildState.REQUESTED, BuildState.SUBMITTED, BuildState.RUNNING)
            if current is None or current.state not in resendable or current.queued:
                return
            if current.attempts >= max_attempts:
                reason = f"the compiler did not take the build in {current.attempts} attempts"
                await self._move(tx, build.id, BuildState.FAILED, resendable, reason=reason)
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
            await self._move(
                tx, build.id, BuildState.SUBMITTED, (BuildState.REQUESTED,), job_id=job_id
            )

        await self._locked(build.account_id, uuid4(), decide)

    async def settle(
        self, build: Build, state: BuildState, reason: str | None, **fields: str | int | None
    ) -> None:
        """End a build the job monitor's facts never reached (applied from its jobs table),
        or one the reconciler gives up on, or one of a segment deleted without word."""

        async def decide(tx: Tx) -> None:
            await self._move(tx, build.id, state, _IN_FLIGHT, reason=reason, **fields)

        await self._locked(build.account_id, uuid4(), decide)

    async def note_waits(self, account_id: UUID, notes: list[tuple[Build, str]]) -> int:
        """Say why these builds wait (the watch found them waiting longer than expected).
        A build that moved meanwhile is left alone: its move already cleared the question."""
        noted = 0
        async with self._pool.acquire() as conn, conn.transaction():
            tx = Tx(conn, account_id, uuid4(), self._graphs)
            for seen, note in notes:
                build = await repository.note_waiting(conn, seen.id, seen.state, note)
                if build is None:
                    continue
                if seen.waiting is None:
                    kind = "dependency" if seen.state is BuildState.REQUESTED else "slow_job"
                    DELAYED_BUILDS.labels(kind).inc()
                log.info("build_waiting", build_id=str(build.id), waiting=note)
                await self._announce(tx, build)
                noted += 1
        return noted

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
        plan: bool = True,
    ) -> None:
        """Handle a message once. Planning takes the account's lock; a fact that only moves
        one build along (submitted, running) does not need it: its guarded UPDATE holds
        that build's row, which orders it against the build's end."""

        async def effect(conn: Connection) -> None:
            tx = Tx(conn, account_id, correlation, self._graphs)
            if plan:
                await repository.lock_account(conn, account_id)
            await decide(tx)
            if plan:
                await self._advance(tx)

        await handle_once(self._pool, CONSUMER, message_id, effect)

    async def _locked(
        self, account_id: UUID, correlation: UUID, decide: Callable[[Tx], Awaitable[None]]
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.lock_account(conn, account_id)
            tx = Tx(conn, account_id, correlation, self._graphs)
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
            await self._move(tx, build.id, BuildState.CANCELED, _IN_FLIGHT, reason=reason)

    async def _move(
        self,
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
            await self._finished(tx, build)
        else:
            await self._announce(tx, build)
        return build

    async def _finished(self, tx: Tx, build: Build) -> None:
        """A build ended: announce it, then cascade (done) or skip its dependents."""
        if tx.ended is not None:
            tx.ended.add(build.segment_id)
        await self._announce(tx, build)
        embeds = await tx.embeds()
        if build.state is BuildState.DONE:
            # A refresh run queued every segment already: its ancestors wait in the run (or
            # were skipped in it, say over the cost threshold, and must stay skipped).
            if build.cause is not BuildCause.REFRESH:
                above = graph.ancestors(await tx.parents(), build.segment_id)
                for ancestor in sorted(above, key=str):
                    await self._request(
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
        current = await repository.open_set(tx.conn, tx.account_id)
        if not current.queued:
            return
        if tx.ended is not None:
            await self._advance_near(tx, current)
            return
        queued = await repository.queued_builds(tx.conn, list(current.queued))
        over_cost = await self._over_cost(tx, queued)
        snapshot = graph.Snapshot(await tx.embeds(), frozenset(queued), current.busy, over_cost)
        for d in graph.next_steps(snapshot, await tx.label()):
            if d.action == "skip":
                await self._skip(tx, queued[d.segment_id], d.reason or "skipped")
            else:
                await self._dispatch(tx, queued[d.segment_id], None)

    async def _advance_near(self, tx: Tx, current: repository.OpenSet) -> None:
        """Only builds of what just ended, or of its parents, can have become ready: a job's
        end costs a look at a few segments, not at the account's whole graph. (Cycles were
        skipped when their builds were queued; no member of one is ever ready.)"""
        assert tx.ended is not None
        parents = await tx.parents()
        near = set(tx.ended).union(*(parents.get(s, set()) for s in tx.ended))
        candidates = (near & current.queued) - current.busy
        if not candidates:
            return
        held = graph.blocked(
            await tx.embeds(), frozenset(candidates), current.busy | current.queued
        )
        ready = await repository.queued_builds(tx.conn, sorted(candidates - held, key=str))
        over_cost = await self._over_cost(tx, ready)
        for segment_id, build in sorted(ready.items(), key=lambda kv: str(kv[0])):
            if segment_id in over_cost:
                await self._skip(tx, build, over_cost[segment_id])
            else:
                await self._dispatch(tx, build, None)

    async def _over_cost(self, tx: Tx, builds: dict[UUID, Build]) -> dict[UUID, str]:
        """Refreshes whose last build billed more than the account allows."""
        refreshes = [s for s, b in builds.items() if b.cause is BuildCause.REFRESH]
        if not refreshes:
            return {}
        threshold = await repository.cost_threshold(tx.conn, tx.account_id)
        return {
            s: f"over the cost threshold: last build billed {gigabytes(n)} > {gigabytes(threshold)}"
            for s, n in (await repository.last_bytes_billed(tx.conn, refreshes)).items()
            if n > threshold
        }

    async def _dispatch(self, tx: Tx, build: Build, note: str | None) -> None:
        sent = await repository.mark_dispatched(tx.conn, build.id, note)
        # A person waits on every build but a refresh run's: those take the account's choice.
        priority = (
            await repository.refresh_priority(tx.conn, tx.account_id)
            if sent.run_id is not None
            else JobPriority.INTERACTIVE
        )
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
                    priority=priority,
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
            shown.requested_at is None
            or shown.build_id == build.id
            or shown.requested_at <= build.requested_at
        )
        await repository.project(tx.conn, build, show_state=newest)
        # A run's counts change when a build of it is queued or ends; submitted and
        # running are told without them (they would cost a count per message).
        counted = build.state is BuildState.REQUESTED or build.state.terminal
        if run is None and build.run_id is not None and counted:
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

    async def _run_progress(self, tx: Tx, run_id: UUID) -> RunProgress:
        progress, _ = await self._counted(tx, run_id)
        return progress

    async def _counted(self, tx: Tx, run_id: UUID) -> tuple[RunProgress, str | None]:
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

    async def _progress(self, tx: Tx, run_id: UUID) -> None:
        progress, recorded = await self._counted(tx, run_id)
        if progress.state == "finished" and recorded == "running":
            await repository.finish_run(
                tx.conn, run_id, {"total": progress.total, **progress.counts}
            )
            log.info(
                "refresh_finished", run_id=str(run_id), total=progress.total, **progress.counts
            )


def _labeller(names: dict[UUID, str]) -> graph.Label:
    return lambda s: f"'{names.get(s, s.hex[:8])}'"
