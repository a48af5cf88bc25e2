"""Send Campaign on the real stack: the audience size by channel and the frozen recipient
list agree, the list reads page by page with an address on every row, it is announced
on recipient_list.created, and a segment nobody can be reached in is a clear 422."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from contracts.topics import RECIPIENT_LIST_CREATED
from e2e import DEADLINE_S, api, create, wait_for

pytestmark = pytest.mark.stack


def rules(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"object": "customer", "root": {"type": "group", "rules": list(conditions)}}


async def built(stack, name: str, rule_set: dict[str, Any]) -> str:
    segment = await create(stack, name, rule_set)

    async def done() -> bool:
        shown = (await api(stack, "GET", f"/v1/segments/{segment['id']}")).json()
        return shown["build_status"] == "done"

    await wait_for(done, timeout_s=DEADLINE_S)
    return str(segment["id"])


async def announced(stack, list_id: str) -> dict[str, Any]:
    consumer = AIOKafkaConsumer(
        RECIPIENT_LIST_CREATED,
        bootstrap_servers=stack.cfg.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            for record in (r for batch in batches.values() for r in batch):
                message = json.loads(record.value)
                if message["data"]["list_id"] == list_id:
                    return dict(message)
    finally:
        await consumer.stop()
    raise AssertionError(f"no {RECIPIENT_LIST_CREATED} for {list_id}")


async def test_the_audience_and_the_frozen_list_agree(stack):
    segment_id = await built(
        stack,
        "Send campaign audience",
        rules({"type": "property", "field": "age", "operator": "gte", "value": 30}),
    )
    audience = (await api(stack, "GET", f"/v1/segments/{segment_id}/reachability")).json()
    assert audience["total_matched"] > audience["whatsapp"]["reachable"] > 0
    assert audience["whatsapp_pct"] == audience["whatsapp"]["percentage"]

    made = await api(
        stack, "POST", f"/v1/segments/{segment_id}/recipients", json={"channel": "whatsapp"}
    )
    assert made.status_code == 201, made.text
    frozen = made.json()
    assert frozen["recipients"] == audience["whatsapp"]["reachable"]

    seen: list[dict[str, Any]] = []
    page = 1
    while True:
        body = (
            await api(
                stack,
                "GET",
                f"/v1/recipient-lists/{frozen['id']}/recipients",
                params={"page": page, "per_page": 50},
            )
        ).json()
        seen += body["items"]
        if len(body["items"]) < 50:
            break
        page += 1
    assert len(seen) == len({r["object_id"] for r in seen}) == frozen["recipients"]
    assert all(r["address"] for r in seen)

    from uuid import uuid4

    import httpx

    from segment_runtime.auth import ALL_ACCESS, issue_token

    stranger = issue_token(
        stack.cfg.secrets["jwt_secret"], account_id=uuid4(), user_id="x", permissions=ALL_ACCESS
    )
    async with httpx.AsyncClient(base_url=stack.api) as http:
        for path in ("", "/recipients"):
            other = await http.get(
                f"/v1/recipient-lists/{frozen['id']}{path}",
                headers={"Authorization": f"Bearer {stranger}"},
            )
            assert other.status_code == 404, path

    message = await announced(stack, frozen["id"])
    assert message["data"]["recipients"] == frozen["recipients"]
    assert message["data"]["segment_id"] == segment_id


async def test_a_segment_nobody_can_be_reached_in_is_refused_clearly(stack):
    segment_id = await built(
        stack,
        "Nobody on WhatsApp",
        rules({"type": "property", "field": "whatsapp_opt_in", "operator": "is_false"}),
    )
    refused = await api(
        stack, "POST", f"/v1/segments/{segment_id}/recipients", json={"channel": "whatsapp"}
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "no_reachable_members"
    assert refused.json()["errors"][0]["path"] == "channel"
    unknown = await api(
        stack, "POST", f"/v1/segments/{segment_id}/recipients", json={"channel": "pigeon"}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_channel"


async def test_each_bucket_of_a_split_reads_like_a_segment(stack):
    """Its count, its members, its reachability and its recipient list agree, and a rule
    'not in its holdout' builds to everyone else."""
    made = await api(
        stack,
        "POST",
        "/v1/segments",
        json={
            "name": "Campaign with a holdout",
            "rules": rules({"type": "property", "field": "age", "operator": "gte", "value": 25}),
            "split": {
                "buckets": [
                    {"name": "A", "percent": 45},
                    {"name": "B", "percent": 45},
                    {"name": "holdout", "percent": 10},
                ]
            },
        },
    )
    assert made.status_code == 201, made.text
    segment_id = made.json()["id"]

    async def done(sid: str) -> bool:
        return bool(
            (await api(stack, "GET", f"/v1/segments/{sid}")).json()["build_status"] == "done"
        )

    await wait_for(lambda: done(segment_id), timeout_s=DEADLINE_S)
    counts = (await api(stack, "GET", f"/v1/segments/{segment_id}/buckets")).json()
    whole = (await api(stack, "GET", f"/v1/segments/{segment_id}")).json()["member_count"]
    assert counts["total"] == whole
    holdout = next(b for b in counts["buckets"] if b["name"] == "holdout")
    assert 0 < holdout["members"] < whole

    ids: set[str] = set()
    page = 1
    while True:
        body = (
            await api(
                stack,
                "GET",
                f"/v1/segments/{segment_id}/members",
                params={"bucket": "holdout", "page": page, "per_page": 100},
            )
        ).json()
        assert body["total"] == holdout["members"]
        ids |= {m["object_id"] for m in body["items"]}
        if len(body["items"]) < 100:
            break
        page += 1
    assert len(ids) == holdout["members"]

    reach = (
        await api(
            stack, "GET", f"/v1/segments/{segment_id}/reachability", params={"bucket": "holdout"}
        )
    ).json()
    assert reach["total_matched"] == holdout["members"]
    listed = await api(
        stack,
        "POST",
        f"/v1/segments/{segment_id}/recipients",
        json={"channel": "email", "bucket": "holdout"},
    )
    assert listed.status_code == 201, listed.text
    assert listed.json()["recipients"] == reach["email"]["reachable"]
    message = await announced(stack, listed.json()["id"])
    assert message["data"]["bucket"] == "holdout"

    others = await create(
        stack,
        "Everyone outside the holdout",
        rules(
            {"type": "segment", "segment_id": segment_id, "operator": "not_in", "bucket": "holdout"}
        ),
    )
    await wait_for(lambda: done(others["id"]), timeout_s=DEADLINE_S)
    shown = (await api(stack, "GET", f"/v1/segments/{others['id']}")).json()
    base = (await api(stack, "GET", f"/v1/segments/{segment_id}/detail")).json()["total_base"]
    assert shown["member_count"] == base - holdout["members"]
