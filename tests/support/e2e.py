"""Clients the end-to-end tests share: the gateway over HTTP, Pusher over its protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from contracts.push import STATUS_EVENT

DEADLINE_S = 120


async def pusher_client(
    stack, headers: dict[str, str] | None = None
) -> AsyncIterator[ClientConnection]:
    """A Pusher-protocol client: connect, get a socket id, ask the API which channel is the
    caller's, have it signed, subscribe."""
    headers = headers or stack.headers()
    url = (
        f"ws://127.0.0.1:{stack.cfg.pusher_port}/app/{stack.cfg.pusher_key}"
        "?protocol=7&client=e2e&version=1.0"
    )
    async with connect(url) as ws:
        hello = json.loads(await ws.recv())
        assert hello["event"] == "pusher:connection_established"
        socket_id = json.loads(hello["data"])["socket_id"]
        async with httpx.AsyncClient() as http:
            named = await http.get(f"{stack.api}/v1/realtime/channel", headers=headers)
            assert named.status_code == 200, named.text
            channel = named.json()["channel"]
            signed = await http.post(
                f"{stack.api}/v1/realtime/pusher/auth",
                headers=headers,
                data={"socket_id": socket_id, "channel_name": channel},
            )
        assert signed.status_code == 200, signed.text
        await ws.send(
            json.dumps(
                {
                    "event": "pusher:subscribe",
                    "data": {"channel": channel, "auth": signed.json()["auth"]},
                }
            )
        )
        ack = json.loads(await ws.recv())
        assert ack["event"] == "pusher_internal:subscription_succeeded", ack
        yield ws


async def next_status(
    ws: ClientConnection, segment_id: str, status: str, pusher: bool
) -> dict[str, Any]:
    while True:
        frame = json.loads(await ws.recv())
        if pusher:
            if frame.get("event") != STATUS_EVENT:
                continue
            frame = json.loads(frame["data"]) if isinstance(frame["data"], str) else frame["data"]
        if frame["segment_id"] == segment_id and frame.get("status") == status:
            return frame


async def create(stack, name: str, rules: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{stack.api}/v1/segments", headers=stack.headers(), json={"name": name, "rules": rules}
        )
    assert response.status_code == 201, response.text
    return response.json()


async def pusher_frames(ws: ClientConnection) -> AsyncIterator[dict[str, Any]]:
    """Every platform push on the channel (status and metadata), as dicts."""
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("event", "").startswith("pusher"):
            continue
        data = frame["data"]
        yield json.loads(data) if isinstance(data, str) else data


@contextlib.asynccontextmanager
async def recording_pushes(stack) -> AsyncIterator[list[dict[str, Any]]]:
    """Every push on the caller's channel while the block runs, appended as it arrives."""
    pushers = pusher_client(stack)
    ws = await anext(pushers)
    frames: list[dict[str, Any]] = []

    async def listen() -> None:
        async for frame in pusher_frames(ws):
            frames.append(frame)

    listener = asyncio.create_task(listen())
    try:
        yield frames
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await pushers.aclose()


async def wait_for(
    check: Callable[[], Any], *, timeout_s: float = DEADLINE_S, every_s: float = 0.2
) -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"not true within {timeout_s:.0f} s")
        await asyncio.sleep(every_s)


async def api(stack, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.api, headers=stack.headers(), timeout=30) as http:
        return await http.request(method, path, **kwargs)


def older_than(age: int) -> dict[str, Any]:
    """The simplest rule set: customers older than `age`."""
    return {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [{"type": "property", "field": "age", "operator": "gt", "value": age}],
        },
    }
