"""The build use case against a real Postgres, with BigQuery as an in-memory fake."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from compiler.service.builds import BuildService
from contracts.messages import (
    BuildMode,
    BuildRequested,
    BuildRequestedData,
    ChangeKind,
    SegmentChanged,
    SegmentChangedData,
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

    def project(self) -> str:
        return "proj"

    async def submit(
        self, job_id: str, sql: str, params: dict[str, Any], labels: dict[str, str]
    ) -> None:
        self.jobs.setdefault(job_id, (sql, params, labels))

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


def changed(
    account: UUID, segment: UUID, version: int = 1, change: ChangeKind = ChangeKind.CREATED
) -> SegmentChanged:
    return SegmentChanged(
        source="test",
        accountid=account,
        correlationid=uuid4(),
        data=SegmentChangedData(segment_id=segment, change=change, rules_version=version),
    )


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


async def test_a_created_segment_is_submitted_once_even_if_redelivered(
    db, account, service, submitter
):
    segment = await add_segment(db, account)
    event = changed(account, segment)
    await service.on_segment_changed(event)
    await service.on_segment_changed(event)  # redelivery
    assert len(submitter.jobs) == 1
    ((job_id, (sql, params, labels)),) = submitter.jobs.items()
    assert sql.startswith(
        f"CREATE OR REPLACE TABLE `proj`.`acct_{account.hex}`.`segment_{segment.hex}`"
    )
    # the relative window is measured from today in the account's zone
    assert params == {
        "p0": 7,
        "build_date": date(2026, 1, 31),
        "build_time": datetime(2026, 1, 31, 1, 0, tzinfo=UTC),
    }
    assert labels["segment_id"] == segment.hex
    messages = await outbox(db)
    assert [m["topic"] for m in messages] == ["job.submitted"]
    assert messages[0]["data"]["job_id"] == job_id
    assert messages[0]["correlationid"] == str(event.correlationid)
    async with db.acquire() as conn:
        assert (
            await conn.fetchval("SELECT build_status FROM segments WHERE id=$1", segment)
            == "in_progress"
        )


async def test_an_outdated_change_waits_for_the_newer_one(db, account, service, submitter):
    segment = await add_segment(db, account, version=3)
    await service.on_segment_changed(changed(account, segment, version=2))
    assert submitter.jobs == {}
    await service.on_segment_changed(changed(account, segment, version=3))
    assert len(submitter.jobs) == 1


async def test_archived_and_foreign_segments_are_not_built(db, account, service, submitter):
    archived = await add_segment(db, account, status="archived")
    await service.on_segment_changed(changed(account, archived, change=ChangeKind.UNARCHIVED))
    foreign = await add_segment(db, account)
    await service.on_segment_changed(changed(uuid4(), foreign))  # claims another account
    assert submitter.jobs == {}


async def test_a_deleted_segment_drops_its_table(db, account, service, submitter):
    segment = uuid4()
    await service.on_segment_changed(changed(account, segment, change=ChangeKind.DELETED))
    assert submitter.dropped == [f"proj.acct_{account.hex}.segment_{segment.hex}"]


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
    await service.on_segment_changed(changed(account, segment))
    assert submitter.jobs == {}
    messages = await outbox(db)
    assert [m["topic"] for m in messages] == ["job.completed"]
    assert messages[0]["data"]["status"] == "failed"
    assert "removed_field" in messages[0]["data"]["error"]
    async with db.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT build_status, last_error FROM segments WHERE id=$1", segment
        )
    assert row["build_status"] == "failed"
    assert "removed_field" in row["last_error"]


async def test_a_segment_without_rules_selects_every_object(db, account, service, submitter):
    segment = await add_segment(db, account, rules=None)
    await service.on_build_requested(
        BuildRequested(
            source="test",
            accountid=account,
            correlationid=uuid4(),
            data=BuildRequestedData(segment_id=segment, mode=BuildMode.REFRESH, reason="schedule"),
        )
    )
    ((sql, params, _),) = submitter.jobs.values()
    assert sql.endswith("FROM `proj`.`acct_" + account.hex + "`.`customers` AS t WHERE TRUE")
    assert set(params) == {"build_time"}


async def test_a_refresh_of_a_built_segment_merges(db, account, service, submitter):
    segment = await add_segment(db, account)
    async with db.acquire() as conn:
        await conn.execute("UPDATE segments SET built_at = now() WHERE id = $1", segment)
    await service.on_build_requested(
        BuildRequested(
            source="test",
            accountid=account,
            correlationid=uuid4(),
            data=BuildRequestedData(segment_id=segment, mode=BuildMode.REFRESH, reason="schedule"),
        )
    )
    ((sql, params, labels),) = submitter.jobs.values()
    assert set(params) >= {"build_date", "build_time"}
    assert sql.startswith(f"MERGE INTO `proj`.`acct_{account.hex}`.`segment_{segment.hex}`")
    assert "WHEN NOT MATCHED BY SOURCE THEN DELETE" in sql
    assert labels["mode"] == "refresh"
    (message,) = await outbox(db)
    assert message["data"]["mode"] == "refresh"
    assert message["data"]["build_time"] == "2026-01-31T01:00:00Z"
