"""A notifier started while Redis is unreachable starts anyway: it pushes on Pusher,
says on /health that its websocket fan-out is down, and once Redis answers its
websockets hear pushes too."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import httpx
from websockets.asyncio.client import connect

from devstack import processes
from e2e import DEADLINE_S, api, next_status, pusher_client, wait_for
from tcp_proxy import TcpProxy

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "lt", "value": 25}],
    },
}


async def test_the_notifier_starts_without_redis_and_heals_when_it_returns(stack):
    health_url = f"http://127.0.0.1:{stack.cfg.notifier_port}/health"
    redis = TcpProxy(6379)  # closed: Redis is unreachable when the notifier starts
    (normal,) = [p for p in processes.platform(stack.cfg) if p.name == "notifier"]
    cut = dataclasses.replace(
        normal, env={**normal.env, "REDIS_URL": f"redis://{redis.url_host}/0"}
    )
    stack.kill("notifier")
    stack.start(cut)
    try:
        async with httpx.AsyncClient(timeout=5) as http:

            async def health() -> httpx.Response | None:
                try:
                    return await http.get(health_url)
                except httpx.TransportError:
                    return None

            down = await wait_for(health, timeout_s=60)
            assert down.status_code == 503
            assert down.json()["websocket_fanout"].startswith("down")

            pushers = pusher_client(stack)
            pusher = await anext(pushers)
            made = await api(stack, "POST", "/v1/segments", json={"name": "Blip", "rules": RULES})
            assert made.status_code == 201
            await asyncio.wait_for(
                next_status(pusher, made.json()["id"], "done", pusher=True), DEADLINE_S
            )
            await pushers.aclose()

            await redis.open()
            up = await wait_for(lambda: _ok(http, health_url), timeout_s=30)
            assert up.json()["websocket_fanout"] == "up"

        ws_url = f"ws://127.0.0.1:{stack.cfg.notifier_port}/v1/ws?access_token={stack.token()}"
        async with connect(ws_url) as socket:
            await asyncio.sleep(0.5)  # the notifier registers the socket after the handshake
            rebuilt = await api(stack, "POST", f"/v1/segments/{made.json()['id']}/rebuild")
            assert rebuilt.status_code in (200, 202), rebuilt.text
            frame = await asyncio.wait_for(
                next_status(socket, made.json()["id"], "done", pusher=False), DEADLINE_S
            )
        assert frame["cause"] == "rebuild", json.dumps(frame)
    finally:
        stack.kill("notifier")
        stack.restart("notifier")
        stack.wait_healthy()
        await redis.close()


async def _ok(http: httpx.AsyncClient, url: str) -> httpx.Response | None:
    response = await http.get(url)
    return response if response.status_code == 200 else None
