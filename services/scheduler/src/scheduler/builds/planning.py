"""Planning: which queued builds may start now (the pure rules are `scheduler.graph`),
which are skipped instead, and sending the compiler the ones that start."""

from __future__ import annotations

from uuid import UUID

from contracts.messages import BuildCause, JobPriority, StartBuild, StartBuildData
from scheduler import graph, repository
from scheduler.builds.announce import announce
from scheduler.builds.context import SOURCE, Tx
from scheduler.builds.lifecycle import skip
from scheduler.repository import Build
from segment_runtime.outbox import enqueue


def gigabytes(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


async def advance(tx: Tx) -> None:
    """Skip what must be skipped, send the compiler every build that may start now."""
    current = await repository.open_set(tx.conn, tx.account_id)
    if not current.queued:
        return
    if tx.ended is not None:
        await _advance_near(tx, current)
        return
    queued = await repository.queued_builds(tx.conn, list(current.queued))
    over_cost = await _over_cost(tx, queued)
    snapshot = graph.Snapshot(await tx.embeds(), frozenset(queued), current.busy, over_cost)
    for d in graph.next_steps(snapshot, await tx.label()):
        if d.action == "skip":
            await skip(tx, queued[d.segment_id], d.reason or "skipped")
        else:
            await dispatch(tx, queued[d.segment_id], None)


async def _advance_near(tx: Tx, current: repository.OpenSet) -> None:
    """Only builds of what just ended, or of its parents, can have become ready: a job's
    end costs a look at a few segments, not at the account's whole graph. (Cycles were
    skipped when their builds were queued; no member of one is ever ready.)"""
    assert tx.ended is not None
    parents = await tx.parents()
    near = set(tx.ended).union(*(parents.get(s, set()) for s in tx.ended))
    candidates = (near & current.queued) - current.busy
    if not candidates:
        return
    held = graph.blocked(await tx.embeds(), frozenset(candidates), current.busy | current.queued)
    ready = await repository.queued_builds(tx.conn, sorted(candidates - held, key=str))
    over_cost = await _over_cost(tx, ready)
    for segment_id, build in sorted(ready.items(), key=lambda kv: str(kv[0])):
        if segment_id in over_cost:
            await skip(tx, build, over_cost[segment_id])
        else:
            await dispatch(tx, build, None)


async def _over_cost(tx: Tx, builds: dict[UUID, Build]) -> dict[UUID, str]:
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


async def dispatch(tx: Tx, build: Build, note: str | None) -> None:
    """Send the compiler the build (`build.requested`), noting why when it is a re-send."""
    sent = await repository.mark_dispatched(tx.conn, build.id, note)
    await send(tx, sent)
    if note:
        await announce(tx, sent)


async def send(tx: Tx, build: Build) -> None:
    """The `build.requested` command for the build as it stands."""
    # A person waits on every build but a refresh run's: those take the account's choice.
    priority = (
        await repository.refresh_priority(tx.conn, tx.account_id)
        if build.run_id is not None
        else JobPriority.INTERACTIVE
    )
    await enqueue(
        tx.conn,
        StartBuild.caused_by(
            tx.cause,
            SOURCE,
            data=StartBuildData(
                build_id=build.id,
                segment_id=build.segment_id,
                mode=build.mode,
                cause=build.cause,
                rules_version=build.rules_version,
                run_id=build.run_id,
                attempt=build.attempts,
                priority=priority,
            ),
        ),
    )
