"""The build use case against a real Postgres, with BigQuery as an in-memory fake."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from build_records import record_build
from compiler.service.builds import RETRY_PAUSES_S, BuildService, job_id_for
from compiler.service.ports import JobRefusedError
from compiler.service.repository import claim_next
from contracts.messages import (
    BuildCause,
    BuildMode,
    ChangeKind,
    JobPriority,
    SegmentChanged,
    SegmentChangedData,
    StartBuild,
    StartBuildData,
)

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [
            {"type": "property", "field": "created_on", "operator": "in_last_days", "value": 7}
        ],
    },
}


class FakeSubmitter:
    def __init__(self) -> None:
        self.jobs: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {}
        self.dropped: list[str] = []
        self.refuse: str | None = None
        self.unreachable = False
        self.prepared: list[tuple[str, str, str]] = []
        self.priorities: dict[str, JobPriority] = {}

    def project(self) -> str:
        return "proj"

    async def submit(
        self,
        job_id: str,
        sql: str,
        params: dict[str, Any],
        labels: dict[str, str],
        priority: JobPriority,
    ) -> None:
        if self.unreachable:
            raise ConnectionError("bigquery unreachable")
        if self.refuse:
            raise JobRefusedError(self.refuse)
        self.jobs.setdefault(job_id, (sql, params, labels))
        self.priorities[job_id] = priority

    async def prepare_membership(self, log_table: str, member_table: str, view_sql: str) -> None:
        if self.unreachable:
            raise ConnectionError("bigquery unreachable")
        self.prepared.append((log_table, member_table, view_sql))

    async def drop_table(self, table: str) -> None:
        self.dropped.append(table)


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 1, 31, 1, 0, tzinfo=UTC)

    def today(self, time_zone: str) -> date:
        return date(2026, 1, 31) if time_zone == "Asia/Jakarta" else date(2026, 1, 30)


async def add_segment(
    pool, account: UUID, rules: dict | None = RULES, version: int = 1, status: str = "active"
) -> UUID:
    segment_id = uuid4()
    async with pool.acquire() as conn:
        await conn.execute("UPDATE accounts SET time_zone = 'Asia/Jakarta' WHERE id = $1", account)
        await conn.execute(
            "INSERT INTO segments (id, account_id, name, object_type, rules, rules_version, status,"
            " created_by) VALUES ($1, $2, $3, 'customer', $4, $5, $6, 'u')",
            segment_id,
            account,
            f"s-{segment_id.hex[:6]}",
            rules,
            version,
            status,
        )
    return segment_id


def requested(
    account: UUID, segment: UUID, mode: BuildMode = BuildMode.BUILD, build_id: UUID | None = None
) -> StartBuild:
    return StartBuild(
        source="scheduler",
        accountid=account,
        correlationid=uuid4(),
        data=StartBuildData(
            build_id=build_id or uuid4(),
            segment_id=segment,
            mode=mode,
            cause=BuildCause.CREATE,
            rules_version=1,
        ),
    )


async def consume(service: BuildService, event: StartBuild) -> None:
    """What the consumer and a worker do: queue the command, then submit what is queued."""
    await service.on_start_build(event)
    await service.drain()


async def queued(pool) -> list[tuple[UUID, int]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT build_id, attempts FROM build_requests")
    return [(r["build_id"], r["attempts"]) for r in rows]


async def pause_passed(pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("UPDATE build_requests SET claimed_until = now() - interval '1 s'")


async def outbox(pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT topic, payload FROM outbox ORDER BY seq")
    return [{"topic": r["topic"], **r["payload"]} for r in rows]


@pytest.fixture
def submitter() -> FakeSubmitter:
    return FakeSubmitter()


@pytest.fixture
def service(db, submitter) -> BuildService:
    return BuildService(db, submitter, FixedClock())


async def test_a_requested_build_is_submitted_once_even_if_redelivered(
    db, account, service, submitter
):
    segment = await add_segment(db, account)
    event = requested(account, segment)
    await consume(service, event)
    await consume(service, event)  # redelivery
    assert len(submitter.jobs) == 1
    ((job_id, (sql, params, labels)),) = submitter.jobs.items()
    assert job_id == job_id_for(segment, event.data.build_id)
    # one MERGE into the segment's membership log, whatever the kind of build
    assert sql.startswith(f"MERGE INTO `proj`.`acct_{account.hex}`.`segment_{segment.hex}_log`")
    # the log and the member view over it were made sure of first, once
    ((log_table, member_table, view_sql),) = submitter.prepared
    assert log_table == f"proj.acct_{account.hex}.segment_{segment.hex}_log"
    assert member_table == f"proj.acct_{account.hex}.segment_{segment.hex}"
    assert view_sql.endswith("WHERE `l`.`exited_at` IS NULL")
    # the relative window is measured from today in the account's zone
    assert params == {
        "p0": 7,
        "build_date": date(2026, 1, 31),
        "build_time": datetime(2026, 1, 31, 1, 0, tzinfo=UTC),
        "build_id": str(event.data.build_id),
        "rules_version": 1,
    }
    assert labels["segment_id"] == segment.hex
    assert labels["build_id"] == event.data.build_id.hex
    messages = await outbox(db)
    assert [m["topic"] for m in messages] == ["job.submitted"]
    assert messages[0]["data"]["job_id"] == job_id
    assert messages[0]["data"]["build_id"] == str(event.data.build_id)
    assert messages[0]["correlationid"] == str(event.correlationid)


async def test_a_resent_build_resubmits_the_same_job(db, account, service, submitter):
    segment = await add_segment(db, account)
    first = requested(account, segment)
    again = requested(account, segment, build_id=first.data.build_id)  # the reconciler re-sent it
    await consume(service, first)
    await consume(service, again)
    assert len(submitter.jobs) == 1
    assert [m["data"]["job_id"] for m in await outbox(db)] == [
        job_id_for(segment, first.data.build_id)
    ] * 2


async def test_the_compiler_writes_no_status(db, account, service, submitter):
    segment = await add_segment(db, account)
    await consume(service, requested(account, segment))
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM builds") == 0
        assert await conn.fetchval("SELECT count(*) FROM segment_build_state") == 0


async def test_archived_deleted_and_foreign_segments_end_their_build_canceled(
    db, account, service, submitter
):
    archived = await add_segment(db, account, status="archived")
    await consume(service, requested(account, archived))
    await consume(service, requested(account, uuid4()))  # deleted
    foreign = await add_segment(db, account)
    await consume(service, requested(uuid4(), foreign))  # claims another account
    assert submitter.jobs == {}
    ended = [(m["topic"], m["data"]["status"], m["data"]["error"]) for m in await outbox(db)]
    assert ended == [
        ("job.completed", "canceled", "the segment is archived"),
        ("job.completed", "canceled", "the segment no longer exists"),
        ("job.completed", "canceled", "the segment no longer exists"),
    ]


async def test_a_deleted_segment_drops_its_table(db, account, service, submitter):
    segment = uuid4()
    await service.on_segment_changed(
        SegmentChanged(
            source="test",
            accountid=account,
            correlationid=uuid4(),
            data=SegmentChangedData(
                segment_id=segment, change=ChangeKind.DELETED, rules_version=1, rules_changed=False
            ),
        )
    )
    assert submitter.dropped == [
        f"proj.acct_{account.hex}.segment_{segment.hex}",
        f"proj.acct_{account.hex}.segment_{segment.hex}_log",
    ]


async def test_rules_that_no_longer_compile_fail_the_build_with_a_reason(
    db, account, service, submitter
):
    stale = {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                {"type": "property", "field": "removed_field", "operator": "equals", "value": "x"}
            ],
        },
    }
    segment = await add_segment(db, account, rules=stale)
    event = requested(account, segment)
    await consume(service, event)
    assert submitter.jobs == {}
    messages = await outbox(db)
    assert [m["topic"] for m in messages] == ["job.completed"]
    assert messages[0]["data"]["status"] == "failed"
    assert messages[0]["data"]["build_id"] == str(event.data.build_id)
    assert "removed_field" in messages[0]["data"]["error"]


async def test_a_statement_bigquery_refuses_fails_the_build_and_an_outage_is_retried(
    db, account, service, submitter
):
    segment = await add_segment(db, account)
    submitter.unreachable = True
    event = requested(account, segment)
    await consume(service, event)
    # Nothing went out, and the command is kept to be tried again after a pause.
    assert await outbox(db) == []
    assert await queued(db) == [(event.data.build_id, 1)]
    assert not await service.submit_next()  # still pausing
    await pause_passed(db)
    submitter.unreachable = False
    submitter.refuse = "No matching signature for operator IN UNNEST"
    await service.drain()
    (message,) = await outbox(db)
    assert (message["topic"], message["data"]["status"]) == ("job.completed", "failed")
    assert "IN UNNEST" in message["data"]["error"]
    assert await queued(db) == []


async def test_an_outage_that_outlasts_every_retry_fails_the_build_with_its_reason(
    db, account, service, submitter
):
    segment = await add_segment(db, account)
    submitter.unreachable = True
    event = requested(account, segment)
    await service.on_start_build(event)
    for _ in range(len(RETRY_PAUSES_S) + 1):
        assert await outbox(db) == []
        await pause_passed(db)
        assert await service.submit_next()
    (message,) = await outbox(db)
    assert (message["topic"], message["data"]["status"]) == ("job.completed", "failed")
    assert "bigquery unreachable" in message["data"]["error"]
    assert await queued(db) == []


async def test_queued_builds_are_claimed_fairly_across_accounts(db, account, service, submitter):
    """While one of a big account's builds is being submitted, a small account's build
    goes before the big account's next ones, however long they have waited."""
    other = uuid4()
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO accounts (id, name, time_zone) VALUES ($1, 'other', 'UTC')", other
        )
    big = [requested(account, await add_segment(db, account)) for _ in range(3)]
    small = requested(other, await add_segment(db, other))
    for event in [*big, small]:
        await service.on_start_build(event)
    async with db.acquire() as conn:
        first = await claim_next(conn, 60)
        second = await claim_next(conn, 60)
        third = await claim_next(conn, 60)
    assert first is not None and second is not None and third is not None
    assert first.command.data.build_id == big[0].data.build_id  # the oldest
    assert second.command.data.build_id == small.data.build_id  # its account has none out
    assert third.command.data.build_id == big[1].data.build_id


async def test_a_build_carries_its_priority_to_bigquery(db, account, service, submitter):
    segment = await add_segment(db, account)
    base = requested(account, segment)
    event = base.model_copy(
        update={"data": base.data.model_copy(update={"priority": JobPriority.BATCH})}
    )
    await consume(service, event)
    (job_id,) = submitter.jobs
    assert submitter.priorities[job_id] is JobPriority.BATCH
    assert submitter.jobs[job_id][2]["priority"] == "batch"


async def test_a_segment_without_rules_selects_every_object(db, account, service, submitter):
    segment = await add_segment(db, account, rules=None)
    await consume(service, requested(account, segment, BuildMode.REFRESH))
    ((sql, params, _),) = submitter.jobs.values()
    assert "FROM `proj`.`acct_" + account.hex + "`.`customers` AS t WHERE TRUE) AS nxt" in sql
    assert set(params) == {"build_time", "build_id", "rules_version"}


async def test_every_kind_of_build_is_the_same_merge_into_the_log(db, account, service, submitter):
    """A first build, a refresh and a rebuild all move the log from what was there before:
    only the mode label says which it was."""
    segment = await add_segment(db, account)
    await consume(service, requested(account, segment, BuildMode.REFRESH))
    ((first, _, labels),) = submitter.jobs.values()
    assert labels["mode"] == "build"  # nothing built yet
    async with db.acquire() as conn:
        await record_build(conn, segment, member_count=3)
    submitter.jobs.clear()
    await consume(service, requested(account, segment, BuildMode.REFRESH))
    ((sql, params, labels),) = submitter.jobs.values()
    assert sql == first
    assert set(params) >= {"build_date", "build_time", "build_id", "rules_version"}
    assert "WHEN NOT MATCHED BY SOURCE AND `cur`.`exited_at` IS NULL THEN UPDATE SET" in sql
    assert "DELETE" not in sql  # who leaves is closed, never forgotten
    assert labels["mode"] == "refresh"
    assert len(submitter.prepared) == 1  # once per segment and process
    message = (await outbox(db))[-1]
    assert message["data"]["mode"] == "refresh"
    assert message["data"]["build_time"] == "2026-01-31T01:00:00Z"


async def test_a_log_bigquery_refuses_fails_the_build_with_its_reason(db, account, submitter):
    class Refusing(FakeSubmitter):
        async def prepare_membership(self, *_: str) -> None:
            raise JobRefusedError("the membership log: Access Denied")

    refusing = Refusing()
    service = BuildService(db, refusing, FixedClock())
    segment = await add_segment(db, account)
    await consume(service, requested(account, segment))
    assert refusing.jobs == {}  # no statement went out: the old membership stands
    (message,) = await outbox(db)
    assert (message["topic"], message["data"]["status"]) == ("job.completed", "failed")
    assert message["data"]["error"] == "the membership log: Access Denied"


async def test_the_bigquery_submitter_sends_typed_parameters_and_labels():
    from google.cloud import bigquery

    from compiler.service.adapters import BigQuerySubmitter

    class Client:
        project = "proj"
        config: bigquery.QueryJobConfig | None = None

        def query(self, sql: str, job_config: bigquery.QueryJobConfig, **_: Any) -> None:
            self.config = job_config

    client = Client()
    await BigQuerySubmitter(client).submit(  # type: ignore[arg-type]
        "job1", "SELECT 1", {"p0": 1.5}, {"mode": "build"}, JobPriority.BATCH
    )
    config = client.config
    assert config is not None
    assert config.destination is None  # the MERGE names its own target
    assert config.labels == {"mode": "build"}
    assert config.priority == "BATCH"
    assert [(p.name, p.type_) for p in config.query_parameters] == [("p0", "FLOAT64")]


def test_preparing_the_log_is_bounded_and_refuses_an_account_without_a_dataset():
    """A dataset that does not exist is a refusal with the reason, not ten minutes of the
    client's default retry holding up the build commands' partition (seen on the stack:
    the emulator answers 500 for a table in a missing dataset)."""
    from google.api_core.exceptions import NotFound

    from compiler.service.adapters import prepare_membership
    from segment_runtime.bigquery import SUBMIT_RETRY

    seen: list[tuple[str, object]] = []

    class Client:
        def __init__(self, dataset: bool) -> None:
            self.dataset = dataset

        def get_dataset(self, ref: str, **kw: object) -> None:
            seen.append(("get_dataset", kw["retry"]))
            if not self.dataset:
                raise NotFound(f"Not found: Dataset {ref}")

        def create_table(self, table: object, **kw: object) -> None:
            seen.append(("create_table", kw["retry"]))

        def get_table(self, ref: str, **kw: object) -> None:
            seen.append(("get_table", kw["retry"]))
            raise NotFound(ref)

    with pytest.raises(JobRefusedError, match=r"no warehouse dataset p\.acct_1"):
        prepare_membership(Client(dataset=False), "p.acct_1.s_log", "p.acct_1.s", "SELECT 1")  # type: ignore[arg-type]
    prepare_membership(Client(dataset=True), "p.acct_1.s_log", "p.acct_1.s", "SELECT 1")  # type: ignore[arg-type]
    assert [name for name, _ in seen] == [
        "get_dataset",
        "get_dataset",
        "create_table",
        "get_table",
        "create_table",
    ]
    assert {retry for _, retry in seen} == {SUBMIT_RETRY}
