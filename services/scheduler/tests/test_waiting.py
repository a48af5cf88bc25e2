"""Builds that wait longer than expected say why while they wait (real Postgres)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from contracts.messages import (
    BuildMode,
    JobStarted,
    JobStartedData,
    JobSubmitted,
    JobSubmittedData,
)
from scheduler import graph
from scheduler.waiting import Patience, WaitWatch, slow_note
from services.scheduler.tests.test_builds import World

AT_ONCE = Patience(queued_s=0, slow_factor=3.0, slow_at_least_s=0)


@pytest.fixture
def world(db, account) -> World:
    return World(db, account)


async def waiting_of(world: World, name: str) -> str | None:
    async with world.pool.acquire() as conn:
        return await conn.fetchval(  # type: ignore[no-any-return]
            "SELECT waiting FROM builds WHERE segment_id = $1 AND state IN"
            " ('requested', 'submitted', 'running')",
            world.ids[name],
        )


def test_a_segment_waits_for_the_open_builds_at_the_bottom_of_its_chains() -> None:
    a, b, c, d, e = (uuid4() for _ in range(5))
    embeds = {a: {b, d}, b: {c}, d: {e}}
    # b waits on c: a waits for c (doing the work), not for b; e is idle.
    assert graph.waits_for(embeds, a, frozenset({b, c})) == [c]
    assert graph.waits_for(embeds, a, frozenset({b, c, e})) == sorted([c, e])
    assert graph.waits_for(embeds, a, frozenset()) == []


@pytest.mark.parametrize(
    ("ran_s", "usual_s", "note"),
    [
        (9, 2, "4.5 times longer than its recent builds (9 s, against a median of 2 s)"),
        (9, 0, "9.0 times longer than its recent builds (9 s, against a median of under 1 s)"),
        (600, 120, "5.0 times longer than its recent builds (10 min, against a median of 2 min)"),
    ],
)
def test_a_slow_note_states_the_factor_and_both_figures(ran_s, usual_s, note) -> None:
    assert slow_note(ran_s, usual_s) == f"its job has run {note}"


async def test_a_queued_build_names_the_dependency_it_waits_for_and_its_move_clears_it(world):
    await world.segment("C")
    await world.segment("B", "C")
    await world.segment("A", "B")
    await world.refresh_all()
    assert await world.dispatched() == ["C"]
    watch = WaitWatch(world.pool, world.owner, AT_ONCE)
    assert await watch.run_once() == 2
    assert await waiting_of(world, "B") == "waiting for 'C'"
    assert await waiting_of(world, "A") == "waiting for 'C'"
    assert await watch.run_once() == 0  # said once, not on every look
    pushed = [d for d in await world.outbox("build.changed") if d.get("waiting")]
    assert {(world.names[UUID(d["segment_id"])], d["state"], d["waiting"]) for d in pushed} == {
        ("B", "requested", "waiting for 'C'"),
        ("A", "requested", "waiting for 'C'"),
    }
    async with world.pool.acquire() as conn:
        shown = await conn.fetchval(
            "SELECT waiting FROM segment_build_state WHERE segment_id = $1", world.ids["A"]
        )
    assert shown == "waiting for 'C'"
    await world.run_job("C")
    assert await waiting_of(world, "B") is None  # sent: it waits on nothing now
    await watch.run_once()
    assert await waiting_of(world, "A") == "waiting for 'B'"
    # A watch with the default patience says nothing of a build queued a moment ago.
    await world.run_job("B")
    assert await WaitWatch(world.pool, world.owner).run_once() == 0


async def test_a_job_running_far_longer_than_its_recent_builds_says_so(world):
    await world.segment("S")
    for _ in range(3):
        await world.rebuild("S")
        await world.run_job("S")
    async with world.pool.acquire() as conn:
        await conn.execute("UPDATE builds SET duration_ms = 2000 WHERE state = 'done'")
    await world.rebuild("S")
    command = await world.command("S")
    common = {
        "build_id": UUID(command["build_id"]),
        "segment_id": world.ids["S"],
        "job_id": "job-slow",
    }
    await world.owner.on_job_submitted(
        JobSubmitted(
            **world.envelope(),
            data=JobSubmittedData(**common, mode=BuildMode.BUILD, rules_version=1, table="p.d.t"),
        )
    )
    await world.owner.on_job_started(JobStarted(**world.envelope(), data=JobStartedData(**common)))
    watch = WaitWatch(world.pool, world.owner, AT_ONCE)
    assert await watch.run_once() == 0  # it has not run 3 times 2 s yet
    async with world.pool.acquire() as conn:
        await conn.execute(
            "UPDATE builds SET started_at = clock_timestamp() - interval '9 s'"
            " WHERE state = 'running'"
        )
    assert await watch.run_once() == 1
    note = await waiting_of(world, "S")
    assert note is not None
    assert note.startswith("its job has run 4.")
    assert note.endswith(" times longer than its recent builds (9 s, against a median of 2 s)")
    (pushed,) = [d for d in await world.outbox("build.changed") if d.get("waiting")]
    assert pushed["state"] == "running"
    assert await watch.run_once() == 0  # the same step is not said again
