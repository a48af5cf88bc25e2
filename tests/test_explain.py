"""Explain a member on the real stack: every node's verdict and deciding value, the
member's place in the built table, and why the two differ while a rebuild is pending."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from e2e import DEADLINE_S, api, create, wait_for
from segment_runtime.auth import ALL_ACCESS, Access, Scope

pytestmark = pytest.mark.stack


def rules(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"object": "customer", "root": {"type": "group", "rules": list(conditions)}}


async def done(stack, segment_id: str) -> bool:
    shown = (await api(stack, "GET", f"/v1/segments/{segment_id}")).json()
    return bool(shown["build_status"] == "done")


async def test_a_member_and_a_non_member_are_explained_node_by_node(stack):
    adults = rules(
        {"type": "property", "field": "age", "operator": "gte", "value": 30},
        {"type": "event", "event": "web_conversion", "operator": "gte", "value": 0},
    )
    segment = await create(stack, "Explained adults", adults)
    await wait_for(lambda: done(stack, segment["id"]), timeout_s=DEADLINE_S)
    members = (
        await api(stack, "GET", f"/v1/segments/{segment['id']}/members", params={"per_page": 5})
    ).json()["items"]
    inside = members[0]["object_id"]
    shown = (
        await api(
            stack, "GET", f"/v1/segments/{segment['id']}/explain", params={"member_id": inside}
        )
    ).json()
    assert (shown["matches_now"], shown["in_table"], shown["agrees"]) == (True, True, True)
    nodes = {n["path"]: n for n in shown["nodes"]}
    assert nodes["rules.root"]["matched"] is True
    assert nodes["rules.root.rules[0]"]["value"] >= 30  # the member's age decided it
    assert isinstance(nodes["rules.root.rules[1]"]["value"], int)  # the count of events

    young = await create(
        stack,
        "Explained young",
        rules({"type": "property", "field": "age", "operator": "lt", "value": 30}),
    )
    await wait_for(lambda: done(stack, young["id"]), timeout_s=DEADLINE_S)
    outsider = (
        await api(stack, "GET", f"/v1/segments/{young['id']}/members", params={"per_page": 1})
    ).json()["items"][0]["object_id"]
    out = (
        await api(
            stack, "GET", f"/v1/segments/{segment['id']}/explain", params={"member_id": outsider}
        )
    ).json()
    assert (out["matches_now"], out["in_table"], out["agrees"]) == (False, False, True)
    verdicts = {n["path"]: (n["matched"], n["value"]) for n in out["nodes"]}
    assert verdicts["rules.root.rules[0]"][0] is False and verdicts["rules.root.rules[0]"][1] < 30

    unknown = await api(
        stack, "GET", f"/v1/segments/{segment['id']}/explain", params={"member_id": "nobody"}
    )
    assert unknown.status_code == 404
    assert [e["path"] for e in unknown.json()["errors"]] == ["member_id"]

    unsaved = await api(
        stack, "POST", "/v1/segments/explain", json={"rules": adults, "member_id": inside}
    )
    assert unsaved.status_code == 200, unsaved.text
    assert unsaved.json()["matches_now"] is True and unsaved.json()["in_table"] is None

    # New rules whose build the warehouse loses: until that build ends, the table and the
    # rules disagree, and it says why.
    stack.set_fault(segment["id"], outcome="lose")
    try:
        edited = await api(
            stack,
            "PATCH",
            f"/v1/segments/{segment['id']}",
            json={
                "rules": rules(
                    {"type": "property", "field": "age", "operator": "gte", "value": 200}
                )
            },
        )
        assert edited.status_code == 200
        pending = (
            await api(
                stack, "GET", f"/v1/segments/{segment['id']}/explain", params={"member_id": inside}
            )
        ).json()
        assert (pending["matches_now"], pending["in_table"], pending["agrees"]) == (
            False,
            True,
            False,
        )
        # Said whether the scheduler has taken the new rules up yet or not.
        assert "the table still holds the last build's members" in pending["reason"]
    finally:
        stack.reset_faults()


async def test_the_overlap_of_three_segments_adds_up(stack):
    made = []
    for name, condition in (
        ("over 25", {"type": "property", "field": "age", "operator": "gt", "value": 25}),
        ("over 40", {"type": "property", "field": "age", "operator": "gt", "value": 40}),
        ("under 35", {"type": "property", "field": "age", "operator": "lt", "value": 35}),
    ):
        made.append(await create(stack, f"Overlap {name}", rules(condition)))
    for segment in made:
        await wait_for(lambda s=segment: done(stack, s["id"]), timeout_s=DEADLINE_S)
    ids = [m["id"] for m in made]
    answer = await api(stack, "GET", "/v1/segments/overlap", params={"segment_ids": ids})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    sizes = {
        s["id"]: (await api(stack, "GET", f"/v1/segments/{s['id']}")).json()["member_count"]
        for s in made
    }
    assert {s["segment_id"]: s["members"] for s in body["segments"]} == sizes
    # every segment's regions sum to its size, and all regions to the union
    for sid, size in sizes.items():
        assert sum(r["members"] for r in body["regions"] if sid in r["segments"]) == size
    assert sum(r["members"] for r in body["regions"]) == body["union"]
    # over 40 lies inside over 25; under 35 and over 40 never meet
    regions = {tuple(r["segments"]): r["members"] for r in body["regions"]}
    assert (ids[1],) not in regions and (ids[1], ids[2]) not in regions
    pair = next(p for p in body["pairs"] if (p["a"], p["b"]) == (ids[0], ids[1]))
    assert pair["jaccard"] == pytest.approx(sizes[ids[1]] / sizes[ids[0]])

    # Unsaved rules beside a built segment: "these rules" come first, as None.
    over_40 = rules({"type": "property", "field": "age", "operator": "gt", "value": 40})
    unsaved = await api(
        stack, "POST", "/v1/segments/overlap", json={"rules": over_40, "segment_ids": [ids[0]]}
    )
    assert unsaved.status_code == 200, unsaved.text
    mine = unsaved.json()
    assert [s["segment_id"] for s in mine["segments"]] == [None, ids[0]]
    assert mine["segments"][0]["members"] == sizes[ids[1]]  # the same rules as "over 40"
    assert {tuple(r["segments"]): r["members"] for r in mine["regions"]} == {
        (None, ids[0]): sizes[ids[1]],
        (ids[0],): sizes[ids[0]] - sizes[ids[1]],
    }

    # A segment the caller may not see is absent: an owned-view user who made none of them.
    owned = stack.token(
        user_id="someone-else",
        permissions={**ALL_ACCESS, Scope.VIEW: Access.OWNED},
    )
    async with httpx.AsyncClient(base_url=stack.api, timeout=30) as http:
        hidden = await http.get(
            "/v1/segments/overlap",
            params={"segment_ids": ids[:2]},
            headers={"Authorization": f"Bearer {owned}"},
        )
    assert hidden.status_code == 404

    too_many = await api(
        stack, "GET", "/v1/segments/overlap", params={"segment_ids": [*ids, ids[0], ids[1]]}
    )
    assert too_many.status_code == 422
    sessions = await create(
        stack,
        "Overlap sessions",
        {
            "object": "session",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": "pageviews", "operator": "gt", "value": 1}],
            },
        },
    )
    mixed = await api(
        stack, "GET", "/v1/segments/overlap", params={"segment_ids": [ids[0], sessions["id"]]}
    )
    assert mixed.status_code == 422
    assert [e["path"] for e in mixed.json()["errors"]] == ["segment_ids[1]"]


async def test_cost_before_save_follows_the_tables_a_rule_reads(stack):
    """The local warehouse's dry run says the bytes of the tables read, so a rule that
    reads events costs more than one that reads the customers alone; a month is a
    refresh's bytes times the schedule's runs; over the threshold, it would be skipped."""
    alone = rules({"type": "property", "field": "age", "operator": "gt", "value": 30})
    with_events = rules(
        {"type": "property", "field": "age", "operator": "gt", "value": 30},
        {"type": "event", "event": "web_conversion", "operator": "gte", "value": 1},
    )
    costs = []
    for tree in (alone, with_events):
        answer = await api(stack, "POST", "/v1/segments/validate", json={"rules": tree})
        assert answer.status_code == 200, answer.text
        costs.append(answer.json()["cost"])
    assert 0 < costs[0]["bytes_per_build"] < costs[1]["bytes_per_build"]
    assert costs[1]["refreshes_per_month"] == 30  # the default schedule: daily at 08:00
    assert costs[1]["bytes_per_month"] == 30 * costs[1]["bytes_per_refresh"]
    assert costs[1]["would_be_skipped"] is False

    preview = (await api(stack, "POST", "/v1/segments/preview", json={"rules": with_events})).json()
    assert preview["cost"]["bytes_per_build"] == costs[1]["bytes_per_build"]

    conn = await asyncpg.connect(stack.cfg.database_url)
    try:
        await conn.execute(
            "UPDATE accounts SET cost_threshold_bytes = $2 WHERE id = $1",
            stack.account_id,
            costs[0]["bytes_per_build"],
        )
        over = await api(stack, "POST", "/v1/segments/validate", json={"rules": with_events})
        assert over.json()["cost"]["would_be_skipped"] is True
        assert over.json()["cost"]["threshold_bytes"] == costs[0]["bytes_per_build"]
    finally:
        await conn.execute(
            "UPDATE accounts SET cost_threshold_bytes = 10000000000 WHERE id = $1",
            stack.account_id,
        )
        await conn.close()
