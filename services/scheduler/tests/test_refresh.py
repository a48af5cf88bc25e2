from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from contracts.messages import CascadeRequested, CascadeRequestedData
from scheduler.refresh import RefreshScheduler


async def add_segment(pool, account, status="active"):
    segment = uuid4()
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO segments (id, account_id, name, object_type, status, created_by)"
            " VALUES ($1, $2, $3, 'customer', $4, 'u')",
            segment,
            account,
            segment.hex,
            status,
        )
    return segment


async def build_requests(pool):
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload FROM outbox WHERE topic = 'build.requested' ORDER BY seq"
        )
    return [r["payload"]["data"] for r in rows]


async def test_a_due_account_refreshes_its_active_segments_once_per_tick(db, account):
    active = await add_segment(db, account)
    await add_segment(db, account, status="archived")
    async with db.acquire() as conn:
        await conn.execute("UPDATE accounts SET refresh_cron = '0 8 * * *' WHERE id = $1", account)
    scheduler = RefreshScheduler(db, catch_up=timedelta(hours=1))
    now = datetime(2026, 3, 1, 8, 10, tzinfo=UTC)
    assert await scheduler.tick(now) == 1
    assert await scheduler.tick(now + timedelta(minutes=1)) == 0  # same tick: already ran
    requests = await build_requests(db)
    assert [r["segment_id"] for r in requests] == [str(active)]
    assert requests[0]["reason"] == "schedule" and requests[0]["mode"] == "refresh"
    assert await scheduler.tick(now + timedelta(days=1)) == 1  # next day's tick


async def test_a_cascade_rebuilds_each_direct_parent_once(db, account):
    parents = [await add_segment(db, account), await add_segment(db, account)]
    scheduler = RefreshScheduler(db, catch_up=timedelta(hours=1))
    event = CascadeRequested(
        source="test",
        accountid=account,
        correlationid=uuid4(),
        data=CascadeRequestedData(
            origin_segment_id=uuid4(), parent_segment_ids=parents, cascade_id=uuid4()
        ),
    )
    await scheduler.on_cascade_requested(event)
    await scheduler.on_cascade_requested(event)  # redelivery
    requests = await build_requests(db)
    assert sorted(r["segment_id"] for r in requests) == sorted(str(p) for p in parents)
    assert {r["reason"] for r in requests} == {"cascade"}
