"""The build owner against real Postgres: what it records, announces and sends.

`World` plays the other services: it answers the scheduler's `build.requested`
commands with the facts a compiler and a job monitor would state.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from build_records import record_build
from contracts.messages import (
    BuildMode,
    ChangeKind,
    JobCompleted,
    JobCompletedData,
    JobOutcome,
    JobStarted,
    JobStartedData,
    JobSubmitted,
    JobSubmittedData,
    PlanBuilds,
    RebuildSegmentsData,
    SegmentChanged,
    SegmentChangedData,
    StartRefreshRunData,
)
from scheduler.builds import BuildOwner
from scheduler.reconciler import Deadlines, Reconciler
from scheduler.schedule import RefreshSchedule


class World:
    def __init__(self, pool, account: UUID) -> None:
        self.pool = pool
        self.account = account
        self.owner = BuildOwner(pool)
        self.names: dict[UUID, str] = {}
        self.ids: dict[str, UUID] = {}
        self.answered: set[UUID] = set()

    async def segment(self, name: str, embeds: str = "", status: str = "active") -> UUID:
        segment_id = uuid4()
        self.names[segment_id], self.ids[name] = name, segment_id
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO segments (id, account_id, name, object_type, status, created_by)"
                " VALUES ($1, $2, $3, 'customer', $4, 'u')",
                segment_id,
                self.account,
                name,
                status,
            )
            for child in embeds.split():
                await conn.execute(
                    "INSERT INTO segment_embeddings VALUES ($1, $2)", segment_id, self.ids[child]
                )
        return segment_id

    def envelope(self) -> dict[str, Any]:
        return {"source": "test", "accountid": self.account, "correlationid": uuid4()}

    async def changed(self, name: str, change=ChangeKind.CREATED, version: int = 1) -> None:
        segment_id = self.ids[name]
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE segments SET rules_version = $2 WHERE id = $1", segment_id, version
            )
        await self.owner.on_segment_changed(
            SegmentChanged(
                **self.envelope(),
                data=SegmentChangedData(
                    segment_id=segment_id, change=change, rules_version=version
                ),
            )
        )

    async def rebuild(self, *names: str) -> None:
        await self.owner.on_plan_builds(
            PlanBuilds(
                **self.envelope(),
                data=RebuildSegmentsData(segment_ids=[self.ids[n] for n in names]),
            )
        )

    async def refresh_all(self) -> UUID:
        run_id = uuid4()
        await self.owner.on_plan_builds(
            PlanBuilds(
                **self.envelope(),
                data=StartRefreshRunData(run_id=run_id),
            )
        )
        return run_id

    async def outbox(self, topic: str) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payload FROM outbox WHERE topic = $1 ORDER BY seq", topic
            )
        return [r["payload"]["data"] for r in rows]

    async def dispatched(self) -> list[str]:
        """Names of the segments sent to the compiler and not yet answered, in order."""
        return [
            self.names[UUID(d["segment_id"])]
            for d in await self.outbox("build.requested")
            if UUID(d["build_id"]) not in self.answered
        ]

    async def command(self, name: str) -> dict[str, Any]:
        commands = [
            d
            for d in await self.outbox("build.requested")
            if d["segment_id"] == str(self.ids[name]) and UUID(d["build_id"]) not in self.answered
        ]
        assert len({d["build_id"] for d in commands}) == 1  # re-sends are of the same build
        return commands[-1]

    async def run_job(
        self,
        name: str,
        outcome=JobOutcome.DONE,
        members: int = 10,
        billed: int = 1000,
        entered: int | None = None,
        exited: int | None = None,
    ) -> None:
        """What the compiler and the job monitor say about one dispatched build."""
        command = await self.command(name)
        build_id, segment_id = UUID(command["build_id"]), self.ids[name]
        self.answered.add(build_id)
        job = f"job-{build_id.hex[:8]}"
        common = {"build_id": build_id, "segment_id": segment_id, "job_id": job}
        await self.owner.on_job_submitted(
            JobSubmitted(
                **self.envelope(),
                data=JobSubmittedData(
                    **common,
                    mode=BuildMode(command["mode"]),
                    rules_version=command["rules_version"],
                    table="p.d.t",
                    build_time=datetime(2026, 3, 1, 8, tzinfo=UTC),
                ),
            )
        )
        await self.owner.on_job_started(
            JobStarted(**self.envelope(), data=JobStartedData(**common))
        )
        await self.owner.on_job_completed(
            JobCompleted(
                **self.envelope(),
                data=JobCompletedData(
                    **common,
                    status=outcome,
                    rules_version=command["rules_version"],
                    member_count=members if outcome is JobOutcome.DONE else None,
                    entered=entered,
                    exited=exited,
                    bytes_billed=billed,
                    error=None if outcome is JobOutcome.DONE else "Binder Error: boom",
                ),
            )
        )

    async def builds(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT * FROM builds ORDER BY requested_at")
        return [{**dict(r), "name": self.names.get(r["segment_id"])} for r in rows]

    async def shown(self, name: str) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM segment_view WHERE id = $1", self.ids[name])
        return dict(row)


@pytest.fixture
def world(db, account) -> World:
    return World(db, account)


async def test_a_created_segment_is_requested_dispatched_and_its_life_announced(world):
    await world.segment("S")
    await world.changed("S")
    await world.changed("S")  # the same change told again: the build in flight answers it
    assert await world.dispatched() == ["S"]
    assert (await world.shown("S"))["build_status"] == "in_progress"
    await world.run_job("S", members=42)
    shown = await world.shown("S")
    assert (shown["build_status"], shown["member_count"], shown["build_state"]) == (
        "done",
        42,
        "done",
    )
    states = [d["state"] for d in await world.outbox("build.changed")]
    assert states == ["requested", "submitted", "running", "done"]
    (build,) = await world.builds()
    assert build["cause"] == "create"
    assert build["submitted_at"] <= build["started_at"] <= build["finished_at"]


async def test_a_redelivered_fact_changes_nothing_twice(world):
    await world.segment("S")
    event = SegmentChanged(
        **world.envelope(),
        data=SegmentChangedData(
            segment_id=world.ids["S"], change=ChangeKind.CREATED, rules_version=1
        ),
    )
    await world.owner.on_segment_changed(event)
    await world.owner.on_segment_changed(event)
    assert len(await world.builds()) == 1
    assert len(await world.outbox("build.changed")) == 1


async def test_a_cascade_through_a_diamond_builds_each_ancestor_once_after_its_children(world):
    await world.segment("E")
    await world.segment("B", "E")
    await world.segment("C", "E")
    await world.segment("D", "B C")
    await world.rebuild("E")
    assert await world.dispatched() == ["E"]
    await world.run_job("E")
    assert sorted(await world.dispatched()) == ["B", "C"]  # D waits for both
    await world.run_job("B")
    assert await world.dispatched() == ["C"]
    await world.run_job("C")
    assert await world.dispatched() == ["D"]
    await world.run_job("D")
    builds = await world.builds()
    assert sorted(b["name"] for b in builds) == ["B", "C", "D", "E"]  # each exactly once
    by = {b["name"]: b for b in builds}
    assert {b["cause"] for n, b in by.items() if n != "E"} == {"cascade"}
    assert by["D"]["dispatched_at"] >= max(by["B"]["finished_at"], by["C"]["finished_at"])
    assert await world.dispatched() == []


async def test_overlapping_cascades_coalesce(world):
    await world.segment("E1")
    await world.segment("E2")
    await world.segment("D", "E1 E2")
    await world.rebuild("E1", "E2")
    assert sorted(await world.dispatched()) == ["E1", "E2"]
    await world.run_job("E1")
    assert await world.dispatched() == ["E2"]  # D waits: E2 is still building
    await world.run_job("E2")
    await world.run_job("D")
    assert [b["name"] for b in await world.builds()].count("D") == 1


async def test_a_refresh_run_skips_what_depends_on_a_failure_and_finishes_with_a_summary(world):
    await world.segment("C")
    await world.segment("B", "C")
    await world.segment("A", "B")
    await world.segment("X", "C")
    await world.segment("Y")
    await world.segment("Old", status="archived")
    run_id = await world.refresh_all()
    assert sorted(await world.dispatched()) == ["C", "Y"]
    await world.run_job("C", JobOutcome.FAILED)
    await world.run_job("Y")
    builds = {b["name"]: b for b in await world.builds()}
    assert "Old" not in builds
    assert {n: (b["state"], b["reason"]) for n, b in builds.items() if b["state"] == "skipped"} == {
        "B": ("skipped", "dependency 'C' failed"),
        "X": ("skipped", "dependency 'C' failed"),
        "A": ("skipped", "dependency 'B' was skipped"),
    }
    assert builds["C"]["reason"] == "Binder Error: boom"
    assert {b["run_id"] for b in builds.values()} == {run_id}
    async with world.pool.acquire() as conn:
        run = await conn.fetchrow("SELECT * FROM refresh_runs WHERE id = $1", run_id)
    assert run["state"] == "finished"
    assert run["summary"] == {"total": 5, "done": 1, "failed": 1, "skipped": 3}
    last = (await world.outbox("build.changed"))[-1]["run"]
    assert last["state"] == "finished" and last["counts"] == {"done": 1, "failed": 1, "skipped": 3}
    shown = await world.shown("A")
    assert (shown["build_status"], shown["last_error"]) == ("skipped", "dependency 'B' was skipped")


async def test_a_refresh_run_builds_in_dependency_order_without_levels(world):
    await world.segment("C")
    await world.segment("B", "C")
    await world.segment("A", "B")
    await world.segment("Z")
    await world.refresh_all()
    assert sorted(await world.dispatched()) == ["C", "Z"]
    await world.run_job("C")
    assert sorted(await world.dispatched()) == ["B", "Z"]  # B does not wait for Z
    await world.run_job("B")
    await world.run_job("A")
    await world.run_job("Z")
    assert sorted(b["name"] for b in await world.builds()) == ["A", "B", "C", "Z"]
    assert {b["mode"] for b in await world.builds()} == {"refresh"}


async def test_a_refresh_run_takes_the_accounts_priority_and_a_persons_build_is_interactive(
    world,
):
    await world.segment("R")
    await world.segment("E")
    async with world.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET refresh_priority = 'BATCH' WHERE id = $1", world.account
        )
    await world.refresh_all()
    assert (await world.command("R"))["priority"] == "BATCH"
    await world.run_job("R")
    await world.run_job("E")
    await world.changed("E", ChangeKind.UPDATED, version=2)  # a person's edit
    assert (await world.command("E"))["priority"] == "INTERACTIVE"


async def test_a_scheduled_tick_starts_one_run_per_tick(world):
    await world.segment("S")
    async with world.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET refresh_cron = '0 8 * * *', created_at = '2026-01-01'"
            " WHERE id = $1",
            world.account,
        )
    schedule = RefreshSchedule(world.pool, world.owner, catch_up=timedelta(hours=1))
    now = datetime(2026, 3, 1, 8, 10, tzinfo=UTC)
    assert await schedule.tick(now) == 1
    assert await schedule.tick(now + timedelta(minutes=1)) == 0  # same tick: already ran
    assert await world.dispatched() == ["S"]


async def test_segments_over_the_cost_threshold_are_skipped_in_a_refresh(world):
    await world.segment("Big")
    await world.segment("Parent", "Big")
    await world.segment("Small")
    async with world.pool.acquire() as conn:
        await record_build(conn, world.ids["Big"], member_count=1, bytes_billed=20_000_000_000)
    await world.refresh_all()
    assert await world.dispatched() == ["Small"]
    reasons = {b["name"]: b["reason"] for b in await world.builds() if b["state"] == "skipped"}
    assert reasons == {
        "Big": "over the cost threshold: last build billed 20.0 GB > 10.0 GB",
        "Parent": "dependency 'Big' was skipped",
    }
    async with world.pool.acquire() as conn:  # the threshold is the account's setting
        await conn.execute(
            "UPDATE accounts SET cost_threshold_bytes = 30000000000 WHERE id = $1", world.account
        )
    await world.run_job("Small")
    await world.refresh_all()
    assert sorted(await world.dispatched()) == ["Big", "Small"]


async def test_a_cycle_in_the_data_is_skipped_with_its_path(world):
    await world.segment("P")
    await world.segment("Q", "P")
    async with world.pool.acquire() as conn:  # slipped past the gateway's check
        await conn.execute(
            "INSERT INTO segment_embeddings VALUES ($1, $2)", world.ids["P"], world.ids["Q"]
        )
    await world.segment("R")
    await world.refresh_all()
    assert await world.dispatched() == ["R"]
    reasons = {b["name"]: b["reason"] for b in await world.builds() if b["state"] == "skipped"}
    assert reasons == {
        "P": "embedding cycle: 'P' → 'Q' → 'P'",
        "Q": "embedding cycle: 'P' → 'Q' → 'P'",
    }


async def test_two_edits_during_a_build_become_one_follow_up_of_the_newest_rules(world):
    await world.segment("S")
    await world.changed("S")
    await world.changed("S", ChangeKind.UPDATED, version=2)
    await world.changed("S", ChangeKind.UPDATED, version=3)
    assert await world.dispatched() == ["S"]  # at most one in flight
    await world.run_job("S", members=1)
    command = await world.command("S")
    assert command["rules_version"] == 3
    await world.run_job("S", members=3)
    builds = await world.builds()
    assert [(b["rules_version"], b["state"]) for b in builds] == [(1, "done"), (3, "done")]
    shown = await world.shown("S")
    assert (shown["member_count"], shown["build_rules_version"]) == (3, 3)


async def test_an_older_build_ending_keeps_the_newer_builds_status(world):
    await world.segment("S")
    await world.changed("S")
    await world.changed("S", ChangeKind.UPDATED, version=2)
    await world.run_job("S", members=7)
    shown = await world.shown("S")
    # the table was written (size and time), but new rules are still to be built
    assert (shown["member_count"], shown["build_status"]) == (7, "in_progress")


async def test_deleting_a_segment_while_it_builds_cancels_the_build(world):
    await world.segment("S")
    await world.changed("S")
    command = await world.command("S")
    async with world.pool.acquire() as conn:
        await conn.execute("DELETE FROM segments WHERE id = $1", world.ids["S"])
    await world.owner.on_segment_changed(
        SegmentChanged(
            **world.envelope(),
            data=SegmentChangedData(
                segment_id=world.ids["S"],
                change=ChangeKind.DELETED,
                rules_version=1,
                rules_changed=False,
            ),
        )
    )
    (build,) = await world.builds()
    assert (build["state"], build["reason"]) == ("canceled", "segment deleted")
    assert command["build_id"] == str(build["id"])
    await world.run_job("S")  # the job's late end changes nothing
    (build,) = await world.builds()
    assert build["state"] == "canceled"
    async with world.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM segment_build_state") == 0


async def test_concurrent_ends_of_two_children_start_their_parent_once(world):
    await world.segment("L")
    await world.segment("R")
    await world.segment("P", "L R")
    await world.rebuild("L", "R")
    left, right = await world.command("L"), await world.command("R")
    world.answered |= {UUID(left["build_id"]), UUID(right["build_id"])}

    def done(command) -> JobCompleted:
        return JobCompleted(
            **world.envelope(),
            data=JobCompletedData(
                build_id=UUID(command["build_id"]),
                segment_id=UUID(command["segment_id"]),
                job_id="j",
                status=JobOutcome.DONE,
                rules_version=1,
                member_count=1,
            ),
        )

    await asyncio.gather(
        world.owner.on_job_completed(done(left)), world.owner.on_job_completed(done(right))
    )
    assert await world.dispatched() == ["P"]
    assert [b["name"] for b in await world.builds()].count("P") == 1


# --- the reconciler -----------------------------------------------------------------------


@pytest.fixture
def reconciler(world) -> Reconciler:
    return Reconciler(
        world.pool,
        world.owner,
        Deadlines(dispatch_s=0, silent_s=0, job_s=3600, change_s=0, max_attempts=2),
    )


async def test_a_build_the_compiler_never_answered_is_resent_then_failed(world, reconciler):
    await world.segment("S")
    await world.changed("S")
    await reconciler.run_once()
    commands = await world.outbox("build.requested")
    assert [c["attempt"] for c in commands] == [1, 2]
    assert len({c["build_id"] for c in commands}) == 1  # the same build, so the same job
    await reconciler.run_once()
    (build,) = await world.builds()
    assert (build["state"], build["reason"]) == (
        "failed",
        "the compiler did not take the build in 2 attempts",
    )


async def test_a_job_with_no_news_is_asked_about_through_the_bus_not_the_job_monitors_tables(
    world, reconciler
):
    """Its build is sent again (the compiler and job monitor then re-state what they know):
    not a new attempt, and not news, so the overdue deadline still counts from the last."""
    await world.segment("S")
    await world.changed("S")
    build_id = await submitted_job(world, "S")
    (before,) = await world.builds()
    done = await reconciler.run_once()
    assert (done["asked"], done["redispatched"]) == (1, 0)
    commands = await world.outbox("build.requested")
    assert [(c["build_id"], c["attempt"]) for c in commands] == [(str(build_id), 1)] * 2
    (after,) = await world.builds()
    assert (after["state"], after["attempts"], after["restates"]) == ("submitted", 1, 1)
    assert after["updated_at"] == before["updated_at"]
    # The job monitor's re-stated end settles it as the lost one would have.
    await world.owner.on_job_completed(
        JobCompleted(
            **world.envelope(),
            data=JobCompletedData(
                build_id=build_id,
                segment_id=world.ids["S"],
                job_id="job-S",
                status=JobOutcome.DONE,
                rules_version=1,
                member_count=12,
            ),
        )
    )
    shown = await world.shown("S")
    assert (shown["build_status"], shown["member_count"]) == ("done", 12)
    assert (await reconciler.run_once())["asked"] == 0


async def test_a_long_job_is_asked_about_ever_more_rarely(world):
    await world.segment("S")
    await world.changed("S")
    build_id = await submitted_job(world, "S")
    patient = Reconciler(
        world.pool,
        world.owner,
        Deadlines(dispatch_s=3600, silent_s=10, silent_cap_s=25, job_s=3600, change_s=3600),
    )

    async def asked_after(seconds: int) -> int:
        async with world.pool.acquire() as conn:  # that long passes with no news
            await conn.execute(
                "UPDATE builds SET updated_at = clock_timestamp() - make_interval(secs => $2),"
                " dispatched_at = clock_timestamp() - make_interval(secs => $2) WHERE id = $1",
                build_id,
                seconds,
            )
        return (await patient.run_once())["asked"]

    assert await asked_after(5) == 0
    assert await asked_after(11) == 1  # the first wait: 10 s
    assert await asked_after(11) == 0  # then 20 s
    assert await asked_after(21) == 1
    assert await asked_after(24) == 0  # then 40 s, capped at 25 s
    assert await asked_after(26) == 1
    assert await asked_after(26) == 1  # and every 25 s from there


async def test_a_change_whose_message_was_lost_is_built(world, reconciler):
    await world.segment("S")  # created, but its segment.changed never arrived
    done = await reconciler.run_once()
    assert done["recovered"] == 1
    assert await world.dispatched() == ["S"]
    (build,) = await world.builds()
    assert build["cause"] == "recovery"
    assert (await reconciler.run_once())["recovered"] == 0  # taken up now


async def submitted_job(world, name: str) -> UUID:
    """The compiler's word that the segment's dispatched build has a job (`job-<name>`)."""
    command = await world.command(name)
    build_id = UUID(command["build_id"])
    await world.owner.on_job_submitted(
        JobSubmitted(
            **world.envelope(),
            data=JobSubmittedData(
                build_id=build_id,
                segment_id=world.ids[name],
                job_id=f"job-{name}",
                mode=BuildMode.BUILD,
                rules_version=1,
                table="p.d.t",
            ),
        )
    )
    return build_id


async def removed(world, name: str, change: ChangeKind) -> None:
    await world.owner.on_segment_changed(
        SegmentChanged(
            **world.envelope(),
            data=SegmentChangedData(
                segment_id=world.ids[name], change=change, rules_version=1, rules_changed=False
            ),
        )
    )


async def test_deleting_a_segment_tells_the_job_monitor_to_stop_its_job(world):
    await world.segment("S")
    await world.changed("S")
    build_id = await submitted_job(world, "S")
    async with world.pool.acquire() as conn:
        await conn.execute("DELETE FROM segments WHERE id = $1", world.ids["S"])
    await removed(world, "S", ChangeKind.DELETED)
    (cancel,) = await world.outbox("job.cancel.requested")
    assert (cancel["build_id"], cancel["job_id"], cancel["reason"]) == (
        str(build_id),
        "job-S",
        "segment deleted",
    )


async def test_archiving_a_segment_cancels_its_build_but_lets_its_job_run(world):
    await world.segment("S")
    await world.changed("S")
    await submitted_job(world, "S")
    async with world.pool.acquire() as conn:
        await conn.execute("UPDATE segments SET status = 'archived' WHERE id = $1", world.ids["S"])
    await removed(world, "S", ChangeKind.ARCHIVED)
    (build,) = await world.builds()
    assert (build["state"], build["reason"]) == ("canceled", "segment archived")
    assert await world.outbox("job.cancel.requested") == []  # what it commits is still its own


async def test_a_deleted_segments_orphaned_build_stops_its_job_too(world, reconciler):
    await world.segment("S")
    await world.changed("S")
    await submitted_job(world, "S")
    async with world.pool.acquire() as conn:  # the delete's message was lost
        await conn.execute("DELETE FROM segments WHERE id = $1", world.ids["S"])
    assert (await reconciler.run_once())["orphans"] == 1
    (cancel,) = await world.outbox("job.cancel.requested")
    assert cancel["job_id"] == "job-S"


async def test_a_build_of_a_segment_deleted_without_word_is_canceled(world, reconciler):
    await world.segment("S")
    await world.changed("S")
    async with world.pool.acquire() as conn:  # the delete's message was lost
        await conn.execute("DELETE FROM segments WHERE id = $1", world.ids["S"])
    done = await reconciler.run_once()
    assert done["orphans"] == 1
    (build,) = await world.builds()
    assert (build["state"], build["reason"]) == ("canceled", "segment deleted")


async def test_a_build_whose_job_submitted_was_lost_moves_on_when_the_compiler_restates_it(
    world, reconciler
):
    """The reconciler re-sends the unanswered build; the compiler finds the job it made
    and says job.submitted again, which moves the build on without another attempt."""
    await world.segment("S")
    await world.changed("S")
    assert (await reconciler.run_once())["redispatched"] == 1
    build_id = await submitted_job(world, "S")
    (build,) = await world.builds()
    assert (build["id"], build["state"], build["job_id"]) == (build_id, "submitted", "job-S")
    assert (await reconciler.run_once())["redispatched"] == 0


async def test_a_start_that_overtakes_its_submission_still_passes_through_submitted(world):
    await world.segment("S")
    await world.changed("S")
    command = await world.command("S")
    common = {"build_id": UUID(command["build_id"]), "segment_id": world.ids["S"], "job_id": "j"}
    await world.owner.on_job_started(JobStarted(**world.envelope(), data=JobStartedData(**common)))
    await world.owner.on_job_submitted(
        JobSubmitted(
            **world.envelope(),
            data=JobSubmittedData(**common, mode=BuildMode.BUILD, rules_version=1, table="p.d.t"),
        )
    )
    states = [d["state"] for d in await world.outbox("build.changed")]
    assert states == ["requested", "submitted", "running"]


async def test_a_submission_that_arrives_after_the_start_still_records_the_build_time(world):
    await world.segment("S")
    await world.changed("S")
    command = await world.command("S")
    build_id = UUID(command["build_id"])
    common = {"build_id": build_id, "segment_id": world.ids["S"], "job_id": "j"}
    await world.owner.on_job_started(JobStarted(**world.envelope(), data=JobStartedData(**common)))
    at = datetime(2026, 3, 1, 8, tzinfo=UTC)
    await world.owner.on_job_submitted(
        JobSubmitted(
            **world.envelope(),
            data=JobSubmittedData(
                **common, mode=BuildMode.BUILD, rules_version=1, table="p.d.t", build_time=at
            ),
        )
    )
    async with world.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT state, build_time FROM builds WHERE id = $1", build_id)
    # The changes route reads the log as of this time: without it a build's changes are lost.
    assert (row["state"], row["build_time"]) == ("running", at)


async def test_a_suspicious_size_is_flagged_pushed_and_still_done(world):
    await world.segment("S")
    await world.changed("S")
    await world.run_job("S", members=5_070, entered=5_070, exited=0)
    await world.rebuild("S")
    await world.run_job("S", members=2_000, entered=0, exited=3_070)
    await world.rebuild("S")
    await world.run_job("S", members=0, entered=0, exited=2_000)
    builds = await world.builds()
    assert [b["state"] for b in builds] == ["done"] * 3  # flagging never blocks
    assert [b["anomaly"] for b in builds] == [
        None,
        "shrank 61 % (5,070 → 2,000 members), over the account's ±50 % threshold",
        "emptied: 2,000 members before, none now",
    ]
    assert builds[0]["build_time"] == datetime(2026, 3, 1, 8, tzinfo=UTC)
    told = [d["anomaly"] for d in await world.outbox("build.changed") if d["state"] == "done"]
    assert told == [b["anomaly"] for b in builds]


async def test_the_account_sets_the_anomaly_threshold(world):
    async with world.pool.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET anomaly_change_pct = 10, anomaly_min_changed = 5 WHERE id = $1",
            world.account,
        )
    await world.segment("S")
    await world.changed("S")
    await world.run_job("S", members=100)
    await world.rebuild("S")
    await world.run_job("S", members=115)
    assert [b["anomaly"] for b in await world.builds()][1].startswith("grew 15 %")


async def test_a_canceled_builds_committed_changes_are_still_recorded(world):
    """Archived while its job ran: the job's MERGE committed all the same, so its entered
    and exited are kept on the build (the sum over builds stays each segment's size)."""
    await world.segment("S")
    await world.changed("S")
    await world.changed("S", ChangeKind.ARCHIVED, version=1)
    (build,) = await world.builds()
    assert build["state"] == "canceled"
    await world.run_job("S", members=7, entered=7, exited=0)
    (build,) = await world.builds()
    assert (build["state"], build["entered"], build["exited"]) == ("canceled", 7, 0)


async def test_after_the_broker_comes_back_empty_in_flight_work_is_redriven_at_once(world):
    """The usual deadlines are a minute; a broker that lost everything is known (its topics
    were recreated), so what was in flight on it is re-sent after a short settle instead."""
    patient = Reconciler(
        world.pool, world.owner, Deadlines(dispatch_s=3600, silent_s=3600, change_s=3600)
    )
    await world.segment("S")
    await world.changed("S")
    await asyncio.sleep(0.05)  # dispatched a moment ago: the usual pass leaves it be
    assert (await patient.run_once())["redispatched"] == 0
    restarted = asyncio.Event()
    follower = asyncio.create_task(patient.after_broker_restart(restarted, settle_s=0.02))
    try:
        restarted.set()
        for _ in range(50):
            if len(await world.outbox("build.requested")) == 2:
                break
            await asyncio.sleep(0.02)
    finally:
        follower.cancel()
    assert [c["attempt"] for c in await world.outbox("build.requested")] == [1, 2]


async def test_a_runs_total_is_fixed_when_it_starts_and_ended_only_grows(world):
    for name in ("A", "B", "C"):
        await world.segment(name)
    run_id = await world.refresh_all()
    for name in ("A", "B", "C"):
        await world.run_job(name)
    runs = [d["run"] for d in await world.outbox("build.changed") if d.get("run")]
    assert runs and {r["total"] for r in runs} == {3}  # never 1, then 2, then 3
    ended = [r["ended"] for r in runs]
    assert ended == sorted(ended) and ended[-1] == 3
    assert runs[-1]["state"] == "finished" and runs[-1]["run_id"] == str(run_id)
