"""One grep follows a change from the click to the push: the request's X-Request-ID is on
the JSON log lines of every service that handled what it caused."""

from __future__ import annotations

import asyncio
import json
from uuid import uuid4

import httpx
import pytest

from e2e import DEADLINE_S, next_status, pusher_client

pytestmark = pytest.mark.stack

SERVICES = ("segment-api", "scheduler", "compiler", "job-monitor", "notifier")
RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gte", "value": 50}],
    },
}


async def test_one_correlation_id_runs_through_every_service(stack):
    request_id = str(uuid4())
    pushers = pusher_client(stack)
    pusher = await anext(pushers)
    async with httpx.AsyncClient(base_url=stack.api) as http:
        made = await http.post(
            "/v1/segments",
            json={"name": f"Traced {request_id[:8]}", "rules": RULES},
            headers={**stack.headers(), "X-Request-ID": request_id},
        )
    assert made.status_code == 201
    assert made.headers["x-request-id"] == request_id
    push = await asyncio.wait_for(
        next_status(pusher, made.json()["id"], "done", pusher=True), DEADLINE_S
    )
    await pushers.aclose()
    assert push["correlation_id"] == request_id  # the push carries it too
    await asyncio.sleep(1)  # the last lines reach the files

    found: dict[str, list[dict]] = {}
    for service in SERVICES:
        lines = (stack.logs / f"{service}.log").read_text().splitlines()
        found[service] = [
            json.loads(line) for line in lines if line.startswith("{") and request_id in line
        ]
    assert all(found.values()), {s: len(v) for s, v in found.items()}
    for service, lines in found.items():
        assert all(line["service"] == service for line in lines), service
        assert all(line["correlation_id"] == request_id for line in lines), service
        # and what the line concerns: the account on every service's lines
        assert any(line.get("account_id") == str(stack.account_id) for line in lines), service
