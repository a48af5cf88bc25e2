"""The scheduler as its bootstrap wires it, driven in memory: messages in through
FastStream's TestKafkaBroker, what it records in Postgres, and what it publishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from service_harness import Harness, eventually

from contracts.clock import FixedClock
from contracts.messages import (
    BuildMode,
    ChangeKind,
    JobCompleted,
    JobCompletedData,
    JobOutcome,
    JobSubmitted,
    JobSubmittedData,
    SegmentChanged,
    SegmentChangedData,
)
from scheduler.app import bootstrap
from scheduler.settings import Settings
from segment_runtime.bootstrap import Service
from segment_runtime.kafka import make_broker

NOW = datetime(2030, 3, 1, 8, 0, 30, tzinfo=UTC)


def scheduler(clock: FixedClock) -> Service:
    settings = Settings(KAFKA_BOOTSTRAP="127.0.0.1:1", DATABASE_URL="postgresql://unused")
    return bootstrap(settings, broker=make_broker("127.0.0.1:1", "scheduler"), clock=clock)


async def add_segment(db, account: UUID) -> UUID:
    segment = uuid4()
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO segments (id, account_id, name, object_type, status, created_by)"
            " VALUES ($1, $2, 'S', 'customer', 'active', 'u')",
            segment,
            account,
        )
    return segment


async def build_state(db, build_id: str) -> tuple[str, int | None]:
    async with db.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT state, member_count FROM builds WHERE id = $1", UUID(build_id)
        )
    return row["state"], row["member_count"]


async def test_a_created_segment_is_built_and_its_job_facts_end_the_build(db, account):
    clock = FixedClock(NOW)
    segment = await add_segment(db, account)
    created = SegmentChanged(
        source="segment-api",
        accountid=account,
        correlationid=uuid4(),
        data=SegmentChangedData(segment_id=segment, change=ChangeKind.CREATED, rules_version=1),
    )
    async with Harness(scheduler(clock), db, clock) as h:
        await h.publish(created)
        await h.relay()
        (start,) = h.published["build.requested"]
        assert (start["data"]["segment_id"], start["data"]["cause"]) == (str(segment), "create")
        assert start["correlationid"] == str(created.correlationid)  # the chain continues
        build_id = start["data"]["build_id"]
        assert await build_state(db, build_id) == ("requested", None)

        job = "seg_job_1"
        await h.publish(
            JobSubmitted.caused_by(
                created,
                "compiler",
                JobSubmittedData(
                    build_id=UUID(build_id),
                    segment_id=segment,
                    job_id=job,
                    mode=BuildMode.BUILD,
                    rules_version=1,
                    table="p.d.t",
                ),
            )
        )
        await h.publish(
            JobCompleted.caused_by(
                created,
                "job-monitor",
                JobCompletedData(
                    build_id=UUID(build_id),
                    segment_id=segment,
                    job_id=job,
                    status=JobOutcome.DONE,
                    rules_version=1,
                    member_count=5,
                ),
            )
        )
        await h.relay()
        told = [m["data"]["state"] for m in h.published["build.changed"]]
        assert told == ["requested", "submitted", "done"]
        assert await build_state(db, build_id) == ("done", 5)


async def test_the_refresh_schedule_runs_on_the_injected_clock(db, account):
    clock = FixedClock(NOW)
    async with db.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET refresh_cron = '0 8 * * *', created_at = $2 WHERE id = $1",
            account,
            NOW - timedelta(days=1),
        )
    segment = await add_segment(db, account)
    async with Harness(scheduler(clock), db, clock) as h:
        h.run_loop("refresh-schedule")

        async def refresh_requested() -> list[dict]:
            await h.relay()
            return h.published["build.requested"]

        (start,) = await eventually(refresh_requested)
        assert (start["data"]["segment_id"], start["data"]["cause"]) == (str(segment), "refresh")
        async with db.acquire() as conn:
            scheduled = await conn.fetchval("SELECT scheduled_for FROM refresh_runs")
        assert scheduled == datetime(2030, 3, 1, 8, 0, tzinfo=UTC)  # the clock's tick, not today's
