"""Tracking jobs to their end, against real Postgres with BigQuery as a scripted fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.messages import BuildMode, JobSubmitted, JobSubmittedData
from job_monitor.ports import JobState
from job_monitor.tracking import JobTracker, poll_delay


class ScriptedInspector:
    """Answers each job's polls from a script; the last answer repeats."""

    def __init__(self) -> None:
        self.script: dict[str, list[JobState]] = {}
        self.rows: dict[str, int] = {}
        self.entered: dict[str, int] = {}
        self.canceled: list[str] = []
        self.polls: dict[str, int] = {}

    async def state(self, job_id: str) -> JobState:
        self.polls[job_id] = self.polls.get(job_id, 0) + 1
        states = self.script[job_id]
        return states.pop(0) if len(states) > 1 else states[0]

    async def cancel(self, job_id: str) -> None:
        self.canceled.append(job_id)

    async def counts(self, table: str, build_time) -> tuple[int, int]:
        return self.rows[table], self.entered.get(table, self.rows[table])


T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
DONE = JobState("done", started=T0, ended=T0 + timedelta(seconds=2), bytes_billed=10)


async def add_segment(pool, account: UUID, version: int = 1) -> UUID:
    segment = uuid4()
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO segments (id, account_id, name, object_type, rules_version,"
            " build_status, created_by, member_count, built_at)"
            " VALUES ($1, $2, $3, 'customer', $4, 'in_progress', 'u', 5, $5)",
            segment,
            account,
            segment.hex,
            version,
            T0 - timedelta(days=1),
        )
    return segment


def submitted(account: UUID, segment: UUID, job_id: str, version: int = 1) -> JobSubmitted:
    return JobSubmitted(
        source="test",
        accountid=account,
        correlationid=uuid4(),
        data=JobSubmittedData(
            segment_id=segment,
            job_id=job_id,
            mode=BuildMode.BUILD,
            rules_version=version,
            table=f"p.d.{job_id}",
        ),
    )


async def segment_row(pool, segment: UUID):
    async with pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM segments WHERE id = $1", segment)


async def topics(pool) -> list[str]:
    async with pool.acquire() as conn:
        return [r["topic"] for r in await conn.fetch("SELECT topic FROM outbox ORDER BY seq")]


async def drive(tracker: JobTracker, pool, rounds: int = 10) -> None:
    """Poll until nothing is left running, skipping the backoff waits."""
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


async def test_a_job_polled_until_done_records_size_history_and_completion(
    db, account, tracker, inspector
):
    segment = await add_segment(db, account)
    inspector.script["j1"] = [JobState("running"), JobState("running"), DONE]
    inspector.rows["p.d.j1"] = 42
    event = submitted(account, segment, "j1")
    await tracker.on_job_submitted(event)
    await tracker.on_job_submitted(event)  # redelivered: tracked once
    await drive(tracker, db)
    assert inspector.polls["j1"] == 3
    row = await segment_row(db, segment)
    assert (row["build_status"], row["member_count"], row["built_version"]) == ("done", 42, 1)
    assert row["built_at"] == T0 + timedelta(seconds=2)
    assert await topics(db) == ["job.completed"]
    async with db.acquire() as conn:
        history = await conn.fetch("SELECT status, member_count, duration_ms FROM build_history")
    assert [tuple(h) for h in history] == [("done", 42, 2000)]


async def test_a_failed_job_keeps_the_last_good_size_and_says_why(db, account, tracker, inspector):
    segment = await add_segment(db, account)
    inspector.script["j2"] = [JobState("failed", error="Binder Error: no column x")]
    await tracker.on_job_submitted(submitted(account, segment, "j2"))
    await drive(tracker, db)
    row = await segment_row(db, segment)
    assert row["build_status"] == "failed" and row["member_count"] == 5
    assert row["last_error"] == "Binder Error: no column x"
    async with db.acquire() as conn:
        payload = await conn.fetchval("SELECT payload FROM outbox")
    assert payload["data"]["status"] == "failed" and payload["data"]["error"].startswith("Binder")


async def test_a_job_past_its_deadline_is_canceled(db, account, inspector):
    tracker = JobTracker(db, inspector, timeout_s=0.001, max_interval_s=30)
    segment = await add_segment(db, account)
    inspector.script["j3"] = [JobState("running")]
    await tracker.on_job_submitted(submitted(account, segment, "j3"))
    await drive(tracker, db)
    assert inspector.canceled == ["j3"]
    assert (await segment_row(db, segment))["build_status"] == "canceled"


async def test_a_job_for_outdated_rules_does_not_overwrite_the_segment(
    db, account, tracker, inspector
):
    segment = await add_segment(db, account, version=2)
    inspector.script["old"] = [DONE]
    inspector.rows["p.d.old"] = 99
    await tracker.on_job_submitted(submitted(account, segment, "old", version=1))
    await drive(tracker, db)
    row = await segment_row(db, segment)
    assert row["build_status"] == "in_progress" and row["member_count"] == 5
    assert await topics(db) == ["job.completed"]  # the fact is still told


async def test_a_segment_embedded_by_others_asks_for_a_cascade(db, account, tracker, inspector):
    child = await add_segment(db, account)
    parent = await add_segment(db, account)
    async with db.acquire() as conn:
        await conn.execute("INSERT INTO segment_embeddings VALUES ($1, $2)", parent, child)
    inspector.script["j4"] = [DONE]
    inspector.rows["p.d.j4"] = 1
    await tracker.on_job_submitted(submitted(account, child, "j4"))
    await drive(tracker, db)
    assert await topics(db) == ["job.completed", "cascade.requested"]


async def test_tracking_resumes_after_a_restart(db, account, inspector):
    segment = await add_segment(db, account)
    inspector.script["j5"] = [JobState("running"), DONE]
    inspector.rows["p.d.j5"] = 7
    first = JobTracker(db, inspector, timeout_s=600, max_interval_s=30)
    await first.on_job_submitted(submitted(account, segment, "j5"))
    await first.poll_due()  # still running; then the process dies
    restarted = JobTracker(db, inspector, timeout_s=600, max_interval_s=30)
    await drive(restarted, db)
    assert (await segment_row(db, segment))["member_count"] == 7


async def test_a_refresh_reports_who_entered_and_who_left(db, account, tracker, inspector):
    segment = await add_segment(db, account)  # 5 members before
    inspector.script["r1"] = [JobState("done", started=T0, ended=T0, affected_rows=4)]
    inspector.rows["p.d.r1"] = 6
    inspector.entered["p.d.r1"] = 3
    event = submitted(account, segment, "r1")
    event = event.model_copy(
        update={"data": event.data.model_copy(update={"mode": BuildMode.REFRESH})}
    )
    await tracker.on_job_submitted(event)
    await drive(tracker, db)
    async with db.acquire() as conn:
        payload = await conn.fetchval("SELECT payload FROM outbox")
        history = await conn.fetchrow("SELECT entered, exited FROM build_history")
    assert (payload["data"]["entered"], payload["data"]["exited"]) == (3, 1)
    assert tuple(history) == (3, 1)
