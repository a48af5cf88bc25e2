"""The job monitor as its bootstrap wires it, driven in memory: a JobSubmitted in through
FastStream's TestKafkaBroker is recorded, its tracker loop follows the (fake) warehouse's
job to its end, and JobStarted then JobCompleted go out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from service_harness import Harness, eventually

from contracts.clock import FixedClock
from contracts.messages import BuildMode, JobSubmitted, JobSubmittedData
from job_monitor.app import bootstrap
from job_monitor.membership import BuildChanges
from job_monitor.ports import JobState
from job_monitor.settings import Settings
from segment_runtime.kafka import make_broker

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)


class Warehouse:
    """One job that runs, then ends with 7 members (all of them new)."""

    def __init__(self) -> None:
        self.answers = [JobState("running", started=NOW)]
        self.end = JobState("done", started=NOW, ended=NOW + timedelta(seconds=3), bytes_billed=1)

    async def state(self, job_id: str, wait_s: float) -> JobState:
        return self.answers.pop(0) if self.answers else self.end

    async def cancel(self, job_id: str) -> None:
        raise AssertionError("nothing is canceled here")

    async def drop_table(self, table: str) -> None:
        raise AssertionError("nothing is dropped here")

    async def changes(
        self, log_table: str, build_id: UUID, build_time: datetime | None, *, ids: bool
    ) -> BuildChanges:
        return BuildChanges(7, 7, 0, [f"c{n}" for n in range(7)] if ids else [], [])


async def test_a_submitted_job_is_followed_to_its_end_and_told(db, account):
    clock = FixedClock(NOW)
    settings = Settings(
        KAFKA_BOOTSTRAP="127.0.0.1:1",
        DATABASE_URL="postgresql://unused",
        BIGQUERY_PROJECT="p",
        JOB_POLL_MAX_INTERVAL_S=0.05,
    )
    service = bootstrap(
        settings,
        broker=make_broker("127.0.0.1:1", "job-monitor"),
        warehouse=Warehouse(),
        clock=clock,
    )
    segment = uuid4()
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO segments (id, account_id, name, object_type, created_by)"
            " VALUES ($1, $2, 'S', 'customer', 'u')",
            segment,
            account,
        )
    submitted = JobSubmitted(
        time=NOW,  # its deadline counts from here, against the injected clock
        source="compiler",
        accountid=account,
        correlationid=uuid4(),
        data=JobSubmittedData(
            build_id=uuid4(),
            segment_id=segment,
            job_id="seg_job_1",
            mode=BuildMode.BUILD,
            rules_version=1,
            table="p.d.segment_1",
        ),
    )
    async with Harness(service, db, clock) as h:
        await h.publish(submitted)
        async with db.acquire() as conn:
            deadline = await conn.fetchval("SELECT deadline_at FROM jobs WHERE id = 'seg_job_1'")
        assert deadline == NOW + timedelta(seconds=settings.job_timeout_s)
        h.run_loop("job-tracker")

        async def completed() -> list[dict]:
            await h.relay()
            return h.published["job.completed"]

        (done,) = await eventually(completed)
        assert (done["data"]["status"], done["data"]["member_count"]) == ("done", 7)
        assert (done["data"]["entered"], done["data"]["exited"]) == (7, 0)
        assert done["correlationid"] == str(submitted.correlationid)
        assert [m["data"]["job_id"] for m in h.published["job.started"]] == ["seg_job_1"]
