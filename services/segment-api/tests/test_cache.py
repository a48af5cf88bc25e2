"""Read-through caching: cached until any change; without Redis, answers uncached."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx
from redis.asyncio import Redis

from build_records import record_build
from contracts.cache import cache_generation_key
from segment_api.http.app import create_app
from segment_api.segments.reads import SegmentReads
from segment_api.segments.use_cases import SegmentService
from segment_api.shared.cache import Cache

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}


async def names(client, headers) -> list[str]:
    return [i["name"] for i in (await client.get("/v1/segments", headers=headers)).json()["items"]]


async def test_a_list_is_cached_until_a_change(client, token, db):
    h = token()
    created = (
        await client.post("/v1/segments", json={"name": "One", "rules": RULES}, headers=h)
    ).json()
    assert await names(client, h) == ["All Data", "One"]
    async with db.acquire() as conn:  # behind the gateway's back: the cache does not know
        await conn.execute("UPDATE segments SET name = 'Renamed' WHERE id = $1", created["id"])
    assert await names(client, h) == ["All Data", "One"]
    await client.post("/v1/segments", json={"name": "Two", "rules": RULES}, headers=h)
    assert await names(client, h) == ["All Data", "Two", "Renamed"]


async def test_a_finished_build_reported_by_the_notifier_invalidates(
    client, token, db, redis_prefix
):
    account = uuid4()
    h = token(account=account)
    created = (
        await client.post("/v1/segments", json={"name": "One", "rules": RULES}, headers=h)
    ).json()
    await names(client, h)
    async with db.acquire() as conn:
        await record_build(conn, UUID(created["id"]), member_count=3)
    # What the notifier does on job.completed: bump the account's cache generation.
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    await redis.incr(cache_generation_key(redis_prefix, account))
    await redis.aclose()
    items = (await client.get("/v1/segments", headers=h)).json()["items"]
    assert {i["name"]: i["build_status"] for i in items}["One"] == "done"


async def test_without_redis_the_gateway_answers_uncached_and_says_so(
    db, database_url, token, warehouse
):
    from segment_api.settings import Settings

    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP": "127.0.0.1:1",
            "JWT_SECRET": "api-test-secret-long-enough-for-hs256",
            "PUSHER_APP_ID": "1",
            "PUSHER_KEY": "key",
            "PUSHER_SECRET": "s",
            "PUSHER_HOST": "127.0.0.1",
            "PUSHER_PORT": 1,
            "BIGQUERY_PROJECT": "proj",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    app = create_app(settings)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    app.state.cache = Cache(dead, "dead")
    app.state.segments = SegmentService(db, warehouse, app.state.cache)
    app.state.segment_reads = SegmentReads(db, warehouse, app.state.cache)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as c:
        h = token()
        assert (
            await c.post("/v1/segments", json={"name": "Still works", "rules": RULES}, headers=h)
        ).status_code == 201
        assert await names(c, h) == ["All Data", "Still works"]
        health = (await c.get("/health")).json()
    assert health["status"] == "ok"
    assert health["cache"].startswith("down")
    await dead.aclose()
