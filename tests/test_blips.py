"""Blips on the real stack. A notifier started while Redis is unreachable starts anyway:
it pushes on Pusher, says on /health that its websocket fan-out is down, and once Redis
answers its websockets hear pushes too. The gateway's Postgres sessions terminated over
and over: answers are 2xx or 503 with Retry-After, never a 500, and nothing is lost."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from uuid import uuid4

import asyncpg
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


async def test_dropped_database_connections_are_answered_never_a_500(stack):
    """While the gateway's Postgres sessions are terminated over and over, creates, edits
    and reads answer 2xx, or 503 with Retry-After; a read is retried once on a fresh
    connection. Nothing the gateway said it did is lost."""
    admin = await asyncpg.connect(stack.cfg.database_url)
    stop = asyncio.Event()

    async def terminate() -> None:
        while not stop.is_set():
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'segment-api' AND pid <> pg_backend_pid()"
            )
            await asyncio.sleep(0.15)

    rules = {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 40}],
        },
    }
    killer = asyncio.create_task(terminate())
    answers: list[tuple[str, int, str | None]] = []
    created: list[str] = []
    try:
        for i in range(30):
            made = await api(
                stack,
                "POST",
                "/v1/segments",
                json={"name": f"blip {i} {uuid4().hex[:6]}", "rules": rules},
            )
            answers.append(("create", made.status_code, made.headers.get("retry-after")))
            if made.status_code == 201:
                created.append(made.json()["id"])
                edited = await api(
                    stack, "PATCH", f"/v1/segments/{created[-1]}", json={"description": "edited"}
                )
                answers.append(("edit", edited.status_code, edited.headers.get("retry-after")))
            listed = await api(stack, "GET", "/v1/segments?per_page=5")
            answers.append(("read", listed.status_code, listed.headers.get("retry-after")))
    finally:
        stop.set()
        await killer
        await admin.close()
        # Reads meet what the last terminations left in each worker's pool (and expire
        # it), so the tests after this one start on fresh connections.
        for _ in range(10):
            await api(stack, "GET", "/v1/segments?per_page=1")
    assert all(s < 500 or (s == 503 and after == "1") for _, s, after in answers), answers
    assert any(s == 201 for kind, s, _ in answers if kind == "create")
    for segment_id in created:  # what was answered 201 is there
        assert (await api(stack, "GET", f"/v1/segments/{segment_id}")).status_code == 200


LIFE = ["requested", "submitted", "running", "done"]


async def test_a_websocket_connected_across_a_redis_outage_hears_what_happened_in_order(stack):
    redis = TcpProxy(6379)
    await redis.open()
    (normal,) = [p for p in processes.platform(stack.cfg) if p.name == "notifier"]
    through = dataclasses.replace(
        normal, env={**normal.env, "REDIS_URL": f"redis://{redis.url_host}/0"}
    )
    stack.kill("notifier")
    stack.start(through)
    health_url = f"http://127.0.0.1:{stack.cfg.notifier_port}/health"
    try:
        async with httpx.AsyncClient(timeout=5) as http:

            async def up() -> httpx.Response | None:
                try:
                    return await _ok(http, health_url)
                except httpx.TransportError:
                    return None

            await wait_for(up, timeout_s=60)
            ws_url = f"ws://127.0.0.1:{stack.cfg.notifier_port}/v1/ws?access_token={stack.token()}"
            async with connect(ws_url) as socket:
                await asyncio.sleep(0.5)  # registered after the handshake
                await redis.close()  # the outage: the socket stays open
                made = await api(
                    stack,
                    "POST",
                    "/v1/segments",
                    json={"name": f"Outage {uuid4().hex[:6]}", "rules": RULES},
                )
                segment_id = made.json()["id"]

                async def built() -> bool:
                    # the build history (the scheduler's records, read uncached): the
                    # gateway's cached answers wait for the notifier's owed invalidation
                    builds = (await api(stack, "GET", f"/v1/segments/{segment_id}/builds")).json()
                    return bool(builds) and builds[0]["state"] == "done"

                await wait_for(built, timeout_s=DEADLINE_S)  # it all happened meanwhile
                await redis.open()
                states: list[str] = []

                async def hear() -> None:
                    while "done" not in states:
                        frame = json.loads(await socket.recv())
                        if frame.get("segment_id") == segment_id and frame.get("state"):
                            states.append(frame["state"])

                await asyncio.wait_for(hear(), 5 + 1)  # within 5 s of Redis returning
        assert [s for s in LIFE if s in states] == [s for s in states if s in LIFE], states
        assert states[-1] == "done" and "requested" in states
    finally:
        stack.kill("notifier")
        stack.restart("notifier")
        stack.wait_healthy()
        await redis.close()
