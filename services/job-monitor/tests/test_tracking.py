"""Following jobs to their end, against real Postgres with BigQuery as a scripted fake."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from uuid import UUID, uuid4

import pytest

from build_records import record_build
from contracts.messages import BuildMode, CancelJob, CancelJobData, JobSubmitted, JobSubmittedData
from job_monitor.announcing import Announcer
from job_monitor.membership import BuildChanges
from job_monitor.ports import JobState, NotFoundError
from job_monitor.tracking import JobTracker, poll_delay


class ScriptedInspector:
    """Answers each job's checks from a script; the last answer repeats. A script entry
    that is an exception is raised (a bug or an outage while checking that job)."""

    def __init__(self) -> None:
        self.script: dict[str, list[JobState | Exception]] = {}
        self.rows: dict[str, int] = {}
        self.entered: dict[str, int] = {}
        self.changed: dict[str, BuildChanges] = {}
        self.asked_ids: list[str] = []
        self.broken: set[str] = set()
        self.canceled: list[str] = []
        self.dropped: list[str] = []
        self.polls: dict[str, int] = {}
        self.waits: list[float] = []

    async def state(self, job_id: str, wait_s: float) -> JobState:
        self.polls[job_id] = self.polls.get(job_id, 0) + 1
        self.waits.append(wait_s)
        states = self.script[job_id]
        answer = states.pop(0) if len(states) > 1 else states[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def cancel(self, job_id: str) -> None:
        self.canceled.append(job_id)

    async def drop_table(self, table: str) -> None:
        self.dropped.append(table)

    async def changes(self, log_table: str, build_id, build_time, *, ids: bool) -> BuildChanges:
        if ids:
            self.asked_ids.append(log_table)
        if log_table in self.broken:
            raise ConnectionError("the warehouse is away")
        table = log_table.removesuffix("_log")
        if table in self.changed:
            found = self.changed[table]
        elif table in self.rows:
            found = BuildChanges(self.rows[table], self.entered.get(table, self.rows[table]), 0)
        else:
            raise NotFoundError(log_table)
        return found if ids else BuildChanges(found.members, found.entered, found.exited)


T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
DONE = JobState("done", started=T0, ended=T0 + timedelta(seconds=2), bytes_billed=10)


async def add_segment(pool, account: UUID) -> UUID:
    segment = uuid4()
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO segments (id, account_id, name, object_type, created_by)"
            " VALUES ($1, $2, $3, 'customer', 'u')",
            segment,
            account,
            segment.hex,
        )
        await record_build(conn, segment, member_count=5, built_at=T0 - timedelta(days=1))
    return segment


def submitted(account: UUID, segment: UUID, job_id: str, mode=BuildMode.BUILD) -> JobSubmitted:
    return JobSubmitted(
        source="test",
        accountid=account,
        correlationid=uuid4(),
        data=JobSubmittedData(
            build_id=uuid4(),
            segment_id=segment,
            job_id=job_id,
            mode=mode,
            rules_version=1,
            table=f"p.d.{job_id}",
        ),
    )


async def published(pool) -> list[tuple[str, dict]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT topic, payload FROM outbox ORDER BY seq")
    return [(r["topic"], r["payload"]["data"]) for r in rows]


async def drive(tracker: JobTracker, pool, rounds: int = 10) -> None:
    """Check until nothing is left running, skipping the waits between checks."""
    for _ in range(rounds):
        async with pool.acquire() as conn:
            await conn.execute("UPDATE jobs SET next_poll_at = now() WHERE status = 'running'")
        if not await tracker.poll_due():
            return


@pytest.fixture
def inspector() -> ScriptedInspector:
    return ScriptedInspector()


@pytest.fixture
def tracker(db, inspector) -> JobTracker:
    return JobTracker(db, inspector, timeout_s=600, max_interval_s=30)


def test_backoff_doubles_up_to_the_cap():
    assert [poll_delay(n, 5) for n in range(6)] == [0.5, 1, 2, 4, 5, 5]


async def test_a_job_followed_to_its_end_is_told_started_once_then_completed(
    db, account, tracker, inspector
):
    segment = await add_segment(db, account)
    inspector.script["j1"] = [JobState("pending"), JobState("running"), JobState("running"), DONE]
    inspector.rows["p.d.j1"] = 42
    event = submitted(account, segment, "j1")
    await tracker.on_job_submitted(event)
    await tracker.on_job_submitted(event)  # redelivered: tracked once
    await drive(tracker, db)
    assert inspector.polls["j1"] == 4
    told = await published(db)
    assert [t for t, _ in told] == ["job.started", "job.completed"]
    done = told[1][1]
    assert (done["status"], done["member_count"], done["duration_ms"]) == ("done", 42, 2000)
    assert done["build_id"] == str(event.data.build_id)
    async with db.acquire() as conn:
        # the monitor writes its own table only: the segment's status is the scheduler's
        assert await conn.fetchval("SELECT status FROM jobs WHERE id = 'j1'") == "done"
        assert await conn.fetchval("SELECT state FROM segment_build_state") == "done"
        assert await conn.fetchval("SELECT member_count FROM segment_build_state") == 5


async def test_a_job_heard_of_again_has_its_facts_restated(db, account, tracker, inspector):
    """The scheduler re-sent the build because its facts stopped coming; the compiler said
    job.submitted again (a new message, same job): what the monitor knows is said again."""
    segment = await add_segment(db, account)
    inspector.script["j9"] = [JobState("pending")]
    first = submitted(account, segment, "j9")

    def again() -> JobSubmitted:
        return first.model_copy(update={"id": uuid4()})

    await tracker.on_job_submitted(first)
    await tracker.on_job_submitted(again())  # pending: nothing to say yet
    assert await published(db) == []
    inspector.script["j9"] = [JobState("running", started=T0)]
    await drive(tracker, db, rounds=1)
    await tracker.on_job_submitted(again())
    assert [t for t, _ in await published(db)] == ["job.started", "job.started"]
    inspector.script["j9"] = [DONE]
    inspector.rows["p.d.j9"] = 7
    await drive(tracker, db)
    await tracker.on_job_submitted(again())
    told = await published(db)
    assert [t for t, _ in told] == ["job.started"] * 2 + ["job.completed"] * 2
    assert told[-1][1] == told[-2][1]  # the same end, word for word
    assert told[-1][1]["member_count"] == 7
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM jobs") == 1


async def test_a_failed_job_says_why(db, account, tracker, inspector):
    segment = await add_segment(db, account)
    inspector.script["j2"] = [JobState("failed", error="Binder Error: no column x")]
    await tracker.on_job_submitted(submitted(account, segment, "j2"))
    await drive(tracker, db)
    ((topic, data),) = await published(db)
    assert (topic, data["status"], data["error"]) == (
        "job.completed",
        "failed",
        "Binder Error: no column x",
    )


async def test_a_job_past_its_deadline_is_canceled(db, account, inspector):
    tracker = JobTracker(db, inspector, timeout_s=0.001, max_interval_s=30)
    segment = await add_segment(db, account)
    inspector.script["j3"] = [JobState("running")]
    await tracker.on_job_submitted(submitted(account, segment, "j3"))
    await drive(tracker, db)
    assert inspector.canceled == ["j3"]
    assert [d["status"] for _, d in await published(db)] == ["canceled"]


async def test_one_jobs_error_never_blocks_another_and_ends_after_its_budget(
    db, account, inspector
):
    """The wedge seen in production: a check that raised rolled back every job's poll."""
    tracker = JobTracker(db, inspector, timeout_s=600, max_interval_s=30, error_budget=3)
    broken, fine = await add_segment(db, account), await add_segment(db, account)
    inspector.script["broken"] = [RuntimeError("Not found: Table segment_x was dropped")]
    inspector.script["fine"] = [DONE]
    inspector.rows["p.d.fine"] = 3
    await tracker.on_job_submitted(submitted(account, broken, "broken"))
    await tracker.on_job_submitted(submitted(account, fine, "fine"))
    await drive(tracker, db)
    told = {d["job_id"]: d for t, d in await published(db) if t == "job.completed"}
    assert told["fine"]["status"] == "done"
    assert told["broken"]["status"] == "failed"
    assert "3 failed checks" in told["broken"]["error"]
    assert "was dropped" in told["broken"]["error"]
    assert inspector.polls["broken"] == 3


async def test_a_transient_error_is_forgotten_once_a_check_succeeds(db, account, inspector):
    tracker = JobTracker(db, inspector, timeout_s=600, max_interval_s=30, error_budget=2)
    segment = await add_segment(db, account)
    inspector.script["j"] = [
        ConnectionError("reset"),
        JobState("running"),
        ConnectionError("x"),
        DONE,
    ]
    inspector.rows["p.d.j"] = 1
    await tracker.on_job_submitted(submitted(account, segment, "j"))
    await drive(tracker, db)
    assert [d["status"] for t, d in await published(db) if t == "job.completed"] == ["done"]


async def test_a_cancel_command_stops_the_job_and_records_it_canceled_once(
    db, account, tracker, inspector
):
    segment = await add_segment(db, account)
    inspector.script["gone"] = [JobState("running")]
    event = submitted(account, segment, "gone")
    await tracker.on_job_submitted(event)
    cancel = CancelJob.caused_by(
        event,
        "scheduler",
        CancelJobData(
            build_id=event.data.build_id,
            segment_id=segment,
            job_id="gone",
            reason="segment deleted",
        ),
    )
    await tracker.on_cancel_job(cancel)
    await tracker.on_cancel_job(cancel)  # redelivered: the job has ended, nothing more
    await drive(tracker, db)
    assert inspector.canceled == ["gone"]
    assert inspector.dropped == []  # the segment's tables are the compiler's to drop
    ((_, data),) = await published(db)
    assert (data["status"], data["error"]) == ("canceled", "segment deleted")


async def test_checks_long_poll_within_the_jobs_deadline(db, account, inspector):
    tracker = JobTracker(db, inspector, timeout_s=600, max_interval_s=30, long_poll_s=5)
    segment = await add_segment(db, account)
    inspector.script["lp"] = [JobState("running"), DONE]
    inspector.rows["p.d.lp"] = 1
    await tracker.on_job_submitted(submitted(account, segment, "lp"))
    await tracker.poll_due()  # seen running: told at once, without waiting
    await tracker.poll_due()  # then the next check is due at once, and long-polls
    assert inspector.waits == [0, 5]
    assert [t for t, _ in await published(db)][:2] == ["job.started", "job.completed"]


async def test_tracking_resumes_after_a_restart(db, account, inspector):
    segment = await add_segment(db, account)
    inspector.script["j5"] = [JobState("running"), DONE]
    inspector.rows["p.d.j5"] = 7
    first = JobTracker(db, inspector, timeout_s=600, max_interval_s=30)
    await first.on_job_submitted(submitted(account, segment, "j5"))
    await first.poll_due()  # still running; then the process dies
    restarted = JobTracker(db, inspector, timeout_s=600, max_interval_s=30)
    await drive(restarted, db)
    assert [d["member_count"] for t, d in await published(db) if t == "job.completed"] == [7]


async def test_the_loop_follows_many_jobs_at_once(db, account, inspector):
    tracker = JobTracker(db, inspector, timeout_s=600, max_interval_s=30, concurrency=4)
    for i in range(10):
        segment = await add_segment(db, account)
        inspector.script[f"m{i}"] = [DONE]
        inspector.rows[f"p.d.m{i}"] = i
        await tracker.on_job_submitted(submitted(account, segment, f"m{i}"))
    loop = asyncio.create_task(tracker.run(idle_s=0.05))
    try:
        for _ in range(100):
            if len([t for t, _ in await published(db) if t == "job.completed"]) == 10:
                break
            await asyncio.sleep(0.05)
    finally:
        loop.cancel()
    assert sorted(
        d["member_count"] for t, d in await published(db) if t == "job.completed"
    ) == list(range(10))


async def announce_all(db, inspector) -> int:
    announcer = Announcer(db, inspector, asyncio.Event())
    made = 0
    while await announcer.announce_next():
        made += 1
    return made


async def test_a_build_reports_who_entered_and_left_from_the_log(db, account, tracker, inspector):
    segment = await add_segment(db, account)  # 5 members before
    inspector.script["r1"] = [JobState("done", started=T0, ended=T0)]
    inspector.changed["p.d.r1"] = BuildChanges(6, 2, 1, ["c1", "c7"], ["c3"])
    event = submitted(account, segment, "r1", BuildMode.REFRESH)
    await tracker.on_job_submitted(event)
    await drive(tracker, db)
    # the build's end carries the counts at once; who they are is owed, then announced
    ((topic, completed),) = await published(db)
    assert topic == "job.completed"
    assert (completed["member_count"], completed["entered"], completed["exited"]) == (6, 2, 1)
    assert inspector.asked_ids == []  # the build's end never waited for the ids
    assert tracker.owed.is_set()
    assert await announce_all(db, inspector) == 1
    assert await announce_all(db, inspector) == 0  # once
    (_, (topic, data)) = await published(db)
    assert topic == "membership.changed"
    assert (data["build_id"], data["segment_id"]) == (str(event.data.build_id), str(segment))
    assert (data["entered_ids"], data["exited_ids"]) == (["c1", "c7"], ["c3"])
    assert (data["chunk"], data["chunks"], data["members"]) == (0, 1, 6)


async def test_announcements_follow_build_order_per_segment_through_errors(
    db, account, tracker, inspector
):
    segment = await add_segment(db, account)
    other = await add_segment(db, account)
    for job, ids in (("o1", ["a"]), ("o2", ["b"])):
        inspector.script[job] = [JobState("done", started=T0, ended=T0)]
        inspector.changed[f"p.d.{job}"] = BuildChanges(1, 1, 0, ids, [])
        await tracker.on_job_submitted(submitted(account, segment, job))
        await drive(tracker, db)  # o1 ends before o2
    inspector.script["x1"] = [JobState("done", started=T0, ended=T0)]
    inspector.changed["p.d.x1"] = BuildChanges(1, 1, 0, ["z"], [])
    await tracker.on_job_submitted(submitted(account, other, "x1"))
    await drive(tracker, db)
    announcer = Announcer(db, inspector, asyncio.Event())
    # another monitor is announcing the first build (its row is locked): the second build
    # of that segment waits, the other segment's goes ahead
    async with db.acquire() as other_monitor, other_monitor.transaction():
        await other_monitor.execute("SELECT 1 FROM jobs WHERE id = 'o1' FOR UPDATE")
        assert await announcer.announce_next() is True
        assert await announcer.announce_next() is False
    assert [d["entered_ids"] for t, d in await published(db) if t == "membership.changed"] == [
        ["z"]
    ]
    inspector.broken.add("p.d.o1_log")  # the warehouse fails reading the first build's ids
    told: list[list[str]] = []
    for _ in range(6):
        with contextlib.suppress(ConnectionError):
            await announcer.announce_next()
        told = [d["entered_ids"] for t, d in await published(db) if t == "membership.changed"]
        inspector.broken.clear()
    assert told == [["z"], ["a"], ["b"]]  # each once, a segment's in build order
    assert told.index(["a"]) < told.index(["b"])  # never the second build before the first
    async with db.acquire() as conn:  # the failure was noted on the job while it was owed
        assert (
            await conn.fetchval("SELECT announce_error FROM jobs WHERE id = 'o1'") is None
        )  # and cleared once announced
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM jobs WHERE announce_due") == 0


async def test_a_done_job_whose_log_cannot_be_read_is_checked_again_not_recorded(
    db, account, inspector
):
    tracker = JobTracker(db, inspector, timeout_s=600, max_interval_s=30, error_budget=5)
    segment = await add_segment(db, account)
    inspector.script["r2"] = [DONE]  # no log: reading it raises
    await tracker.on_job_submitted(submitted(account, segment, "r2"))
    await tracker.poll_due()
    assert await published(db) == []  # nothing half-told
    inspector.changed["p.d.r2"] = BuildChanges(1, 1, 0, ["c9"], [])
    await drive(tracker, db)
    await announce_all(db, inspector)
    assert [t for t, _ in await published(db)] == ["job.completed", "membership.changed"]


async def test_a_failed_job_whose_statement_applied_anyway_is_accounted_for(
    db, account, tracker, inspector
):
    """A warehouse that applies a statement and then reports the job failed (the local
    slow warehouse can) still gets its changes counted on the build and announced:
    entered minus exited over all builds stays the member count."""
    segment = await add_segment(db, account)
    inspector.script["f1"] = [JobState("failed", error="backendError")]
    inspector.changed["p.d.f1"] = BuildChanges(4, 0, 1, [], ["c2"])
    await tracker.on_job_submitted(submitted(account, segment, "f1"))
    await drive(tracker, db)
    await announce_all(db, inspector)
    (completed, changed) = await published(db)
    assert (completed[1]["status"], completed[1]["member_count"]) == ("failed", None)
    assert (completed[1]["entered"], completed[1]["exited"]) == (0, 1)
    assert changed[1]["exited_ids"] == ["c2"]


async def test_a_check_never_outlives_its_lease(db, account, inspector):
    """A warehouse call that hangs is cut before the lease runs out (another poller could
    claim the job then), and counts as a failed check with the reason."""
    tracker = JobTracker(
        db, inspector, timeout_s=600, max_interval_s=30, lease_margin_s=3.0, error_budget=1
    )
    segment = await add_segment(db, account)
    inspector.script["slow"] = [JobState("running")]

    async def hangs(job_id: str, wait_s: float) -> JobState:
        await asyncio.sleep(60)
        raise AssertionError("never reached")

    inspector.state = hangs  # type: ignore[method-assign]
    await tracker.on_job_submitted(submitted(account, segment, "slow"))
    started = asyncio.get_running_loop().time()
    await tracker.poll_due()
    assert asyncio.get_running_loop().time() - started < 3.0  # cut at lease - 2 s
    ((_, data),) = await published(db)
    assert data["status"] == "failed"
    assert "outlived its lease of 3 s" in data["error"]


async def test_a_job_being_checked_is_not_checked_again_when_claimed_again(db, account, inspector):
    tracker = JobTracker(db, inspector, timeout_s=600, max_interval_s=30, long_poll_s=0)
    segment = await add_segment(db, account)
    inspector.script["once"] = [JobState("running")]
    release = asyncio.Event()
    calls: list[str] = []

    async def slow_state(job_id: str, wait_s: float) -> JobState:
        calls.append(job_id)
        await release.wait()
        return DONE

    inspector.state = slow_state  # type: ignore[method-assign]
    inspector.rows["p.d.once"] = 1
    await tracker.on_job_submitted(submitted(account, segment, "once"))
    loop = asyncio.create_task(tracker.run(idle_s=0.05))
    try:
        for _ in range(20):  # the lease is made to run out while the first check waits
            async with db.acquire() as conn:
                await conn.execute("UPDATE jobs SET next_poll_at = now() WHERE id = 'once'")
            tracker.wake.set()
            await asyncio.sleep(0.05)
        assert calls == ["once"]
        release.set()
        for _ in range(40):
            if [t for t, _ in await published(db)] == ["job.completed"]:
                break
            await asyncio.sleep(0.05)
    finally:
        loop.cancel()
    assert [t for t, _ in await published(db)] == ["job.completed"]


def test_reading_a_jobs_end_does_not_retry_a_warehouse_error():
    """The client's default retry re-asks on `backendError` for minutes; the inspector
    asks once and reads the failure from the job."""
    from job_monitor.adapters import READ_RETRY, BigQueryInspector

    seen: dict[str, object] = {}

    class Job:
        state = "RUNNING"
        started = ended = None
        error_result: ClassVar[dict[str, str]] = {
            "reason": "backendError",
            "message": "injected failure",
        }
        total_bytes_billed = None

        def result(self, **kwargs: object) -> None:
            seen.update(kwargs)
            self.state = "DONE"

        def reload(self, **_: object) -> None:
            pass

    class Client:
        def get_job(self, job_id: str, **_: object) -> Job:
            return job

    from google.cloud import bigquery

    job = Job()
    job.__class__ = type("QueryJob", (Job, bigquery.QueryJob), {})  # isinstance check
    inspector = BigQueryInspector(Client(), concurrency=1)  # type: ignore[arg-type]
    state = asyncio.run(inspector.state("j", 5.0))
    assert seen["retry"] is READ_RETRY and seen["job_retry"] is None
    assert (state.state, state.error) == ("failed", "injected failure")


async def test_an_announcement_that_keeps_failing_never_holds_up_other_segments(
    db, account, tracker, inspector
):
    stuck, fine = await add_segment(db, account), await add_segment(db, account)
    for job, segment, ids in (("s1", stuck, ["a"]), ("f1", fine, ["b"])):
        inspector.script[job] = [JobState("done", started=T0, ended=T0)]
        inspector.changed[f"p.d.{job}"] = BuildChanges(1, 1, 0, ids, [])
        await tracker.on_job_submitted(submitted(account, segment, job))
        await drive(tracker, db)  # s1 is the older
    inspector.broken.add("p.d.s1_log")
    announcer = Announcer(db, inspector, asyncio.Event())
    with contextlib.suppress(ConnectionError):
        await announcer.announce_next()  # s1 fails, and is noted
    assert await announcer.announce_next() is True  # f1 goes ahead of the failing one
    told = [d["entered_ids"] for t, d in await published(db) if t == "membership.changed"]
    assert told == [["b"]]


async def test_a_job_that_fails_its_checks_ends_even_when_its_log_cannot_be_read(
    db, account, inspector
):
    tracker = JobTracker(db, inspector, timeout_s=600, max_interval_s=30, error_budget=2)
    segment = await add_segment(db, account)
    inspector.script["gone"] = [ConnectionError("the warehouse is away")]
    inspector.broken.add("p.d.gone_log")
    await tracker.on_job_submitted(submitted(account, segment, "gone"))
    await drive(tracker, db)
    ((topic, data),) = await published(db)
    assert (topic, data["status"]) == ("job.completed", "failed")
    assert "2 failed checks" in data["error"] and data["entered"] is None


async def test_long_polled_jobs_are_followed_without_waiting_for_their_lease(
    db, account, inspector
):
    """A check that ends `running` makes its job due again at once; the loop must follow it
    again even when it claims the job before that check's task is over (many jobs at
    once make that likely). Once, such a job was skipped and left unwatched until its
    lease ran out: its end was learned half a minute late."""
    running = JobState("running", started=T0)
    tracker = JobTracker(
        db, inspector, timeout_s=600, max_interval_s=30, long_poll_s=0.01, concurrency=16
    )
    for i in range(12):
        segment = await add_segment(db, account)
        inspector.script[f"l{i}"] = [running] * 15 + [DONE]
        inspector.rows[f"p.d.l{i}"] = i
        await tracker.on_job_submitted(submitted(account, segment, f"l{i}"))
    loop = asyncio.create_task(tracker.run(idle_s=0.05))
    try:
        for _ in range(200):  # 10 s at most; the lease is 30 s
            if len([t for t, _ in await published(db) if t == "job.completed"]) == 12:
                break
            await asyncio.sleep(0.05)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert len([t for t, _ in await published(db) if t == "job.completed"]) == 12
    assert all(inspector.polls[f"l{i}"] == 16 for i in range(12))
