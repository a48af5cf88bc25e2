"""Pushes follow the same visibility rule as the routes: a user whose view is `owned`
hears, on Pusher and on the websocket, of their own segments only, while a user who
sees the whole account hears of every one (the control that the pushes happened)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from e2e import pusher_client, pusher_frames, wait_for
from segment_runtime.auth import ALL_ACCESS, Access, Scope

OWNED_VIEW = {**ALL_ACCESS, Scope.VIEW: Access.OWNED}
RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 40}],
    },
}


async def _collect(frames: Any, into: list[dict[str, Any]]) -> None:
    async for frame in frames:
        into.append(frame)


async def _socket_frames(ws: ClientConnection) -> Any:
    while True:
        yield json.loads(await ws.recv())


async def test_an_owned_view_hears_only_of_its_own_segments(stack):
    viewer = stack.headers("push-viewer", OWNED_VIEW)
    control_client = pusher_client(stack)
    viewer_client = pusher_client(stack, viewer)
    control, mine_pusher = await anext(control_client), await anext(viewer_client)
    ws_url = (
        f"ws://127.0.0.1:{stack.cfg.notifier_port}/v1/ws"
        f"?access_token={stack.token('push-viewer', OWNED_VIEW)}"
    )
    heard: dict[str, list[dict[str, Any]]] = {"control": [], "pusher": [], "socket": []}
    async with connect(ws_url) as socket:
        tasks = [
            asyncio.create_task(_collect(pusher_frames(control), heard["control"])),
            asyncio.create_task(_collect(pusher_frames(mine_pusher), heard["pusher"])),
            asyncio.create_task(_collect(_socket_frames(socket), heard["socket"])),
        ]
        await asyncio.sleep(0.5)  # the notifier registers the socket after the handshake
        async with httpx.AsyncClient(base_url=stack.api, timeout=30) as http:
            theirs = await http.post(
                "/v1/segments", headers=stack.headers(), json={"name": "Not yours", "rules": RULES}
            )
            mine = await http.post(
                "/v1/segments", headers=viewer, json={"name": "Yours", "rules": RULES}
            )
        assert theirs.status_code == mine.status_code == 201
        theirs_id, mine_id = theirs.json()["id"], mine.json()["id"]

        def done(frames: list[dict[str, Any]], segment_id: str) -> bool:
            return any(
                f.get("segment_id") == segment_id and f.get("status") == "done" for f in frames
            )

        await wait_for(
            lambda: (
                done(heard["control"], theirs_id)
                and done(heard["control"], mine_id)
                and done(heard["pusher"], mine_id)
                and done(heard["socket"], mine_id)
            ),
            every_s=0.1,
        )
        await asyncio.sleep(1.0)  # anything wrongly sent after the control heard it
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await control_client.aclose()
    await viewer_client.aclose()

    assert {f["segment_id"] for f in heard["control"]} >= {theirs_id, mine_id}
    for channel in ("pusher", "socket"):
        segments = {f["segment_id"] for f in heard[channel]}
        assert mine_id in segments, channel
        assert theirs_id not in segments, (channel, heard[channel])
