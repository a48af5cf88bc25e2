"""Redis blips heal themselves: a change made while Redis was unreachable is not
hidden by an older cached answer once Redis answers again."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tcp_proxy import TcpProxy

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}


@pytest.fixture
async def redis_proxy():
    proxy = TcpProxy(6379)
    await proxy.open()
    yield proxy
    await proxy.close()


async def names(client, headers) -> list[str]:
    page = await client.get("/v1/segments", headers=headers)
    assert page.status_code == 200, page.text
    return [i["name"] for i in page.json()["items"]]


async def test_a_rename_during_a_redis_blip_shows_once_redis_returns(
    gateway_with, token, redis_proxy
):
    redis = Redis.from_url(
        f"redis://{redis_proxy.url_host}/0", socket_timeout=1, socket_connect_timeout=1
    )
    async with gateway_with(redis) as client:
        h = token()
        made = await client.post("/v1/segments", json={"name": "Before", "rules": RULES}, headers=h)
        assert made.status_code == 201
        assert await names(client, h) == ["All Data", "Before"]  # cached now

        await redis_proxy.close()
        renamed = await client.patch(
            f"/v1/segments/{made.json()['id']}", json={"name": "After"}, headers=h
        )
        assert renamed.status_code == 200  # the change lands; its invalidation is owed
        assert await names(client, h) == ["All Data", "After"]  # uncached meanwhile
        assert (await client.get("/health")).json()["cache"].startswith("down")

        await redis_proxy.open()
        assert await names(client, h) == ["All Data", "After"]
        assert await names(client, h) == ["All Data", "After"]  # and cached again, fresh
        assert (await client.get("/health")).json()["cache"] == "up"
    await redis.aclose()
