"""The correlation id enters at the request and travels in the messages it causes."""

from __future__ import annotations

import json
from uuid import UUID, uuid4

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}


async def outbox_correlations(db, segment_id: str) -> set[str]:
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM outbox WHERE key = $1", segment_id)
    return {
        (json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"])[
            "correlationid"
        ]
        for r in rows
    }


async def test_the_request_id_is_returned_and_carried_by_the_message(client, token, db):
    request_id = uuid4()
    made = await client.post(
        "/v1/segments",
        json={"name": "Traced", "rules": RULES},
        headers={**token(), "X-Request-ID": str(request_id)},
    )
    assert made.status_code == 201
    assert made.headers["x-request-id"] == str(request_id)
    assert await outbox_correlations(db, made.json()["id"]) == {str(request_id)}


async def test_a_traceparent_gives_its_trace_id(client, token, db):
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    made = await client.post(
        "/v1/segments",
        json={"name": "Traced by W3C", "rules": RULES},
        headers={**token(), "traceparent": f"00-{trace}-00f067aa0ba902b7-01"},
    )
    assert made.headers["x-request-id"] == str(UUID(hex=trace))
    assert await outbox_correlations(db, made.json()["id"]) == {str(UUID(hex=trace))}


async def test_without_one_a_new_id_is_made_and_returned(client, token):
    answer = await client.get("/v1/segments", headers=token())
    UUID(answer.headers["x-request-id"])  # a valid id, made here
