"""The compiler as its bootstrap wires it, driven in memory: a StartBuild in through
FastStream's TestKafkaBroker is kept in its queue, a submit worker sends the job to the
(fake) warehouse, and JobSubmitted goes out."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from service_harness import Harness, eventually

from compiler.service.app import bootstrap
from compiler.service.builds import job_id_for
from compiler.service.settings import Settings
from contracts.clock import FixedClock
from contracts.messages import BuildCause, BuildMode, StartBuild, StartBuildData
from segment_runtime.kafka import make_broker
from services.compiler.tests.test_builds import FakeSubmitter

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}


async def add_segment(db, account: UUID) -> UUID:
    segment = uuid4()
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO segments (id, account_id, name, object_type, rules, rules_version, status,"
            " created_by) VALUES ($1, $2, 'Adults', 'customer', $3, 1, 'active', 'u')",
            segment,
            account,
            RULES,
        )
    return segment


async def test_a_start_build_is_queued_submitted_by_a_worker_and_told(db, account):
    clock = FixedClock(datetime(2030, 3, 1, 8, 0, tzinfo=UTC))
    warehouse = FakeSubmitter()
    settings = Settings(
        KAFKA_BOOTSTRAP="127.0.0.1:1", DATABASE_URL="postgresql://unused", BIGQUERY_PROJECT="proj"
    )
    service = bootstrap(
        settings, broker=make_broker("127.0.0.1:1", "compiler"), warehouse=warehouse, clock=clock
    )
    segment = await add_segment(db, account)
    start = StartBuild(
        source="scheduler",
        accountid=account,
        correlationid=uuid4(),
        data=StartBuildData(
            build_id=uuid4(),
            segment_id=segment,
            mode=BuildMode.BUILD,
            cause=BuildCause.CREATE,
            rules_version=1,
        ),
    )
    async with Harness(service, db, clock) as h:
        await h.publish(start)
        async with db.acquire() as conn:  # recorded before it is acknowledged
            assert await conn.fetchval("SELECT count(*) FROM build_requests") == 1
        assert warehouse.jobs == {}  # the consumer only queues: a worker submits
        h.run_loop("submit-0")
        await eventually(lambda: warehouse.jobs)
        job_id = job_id_for(segment, start.data.build_id)
        ((submitted_id, (sql, params, _)),) = warehouse.jobs.items()
        assert submitted_id == job_id and "MERGE" in sql
        assert params["build_time"] == clock.now()  # the injected clock stamps the build

        async def told() -> list[dict]:
            await h.relay()
            return h.published["job.submitted"]

        (submitted,) = await eventually(told)
        assert submitted["data"]["job_id"] == job_id
        assert submitted["correlationid"] == str(start.correlationid)
