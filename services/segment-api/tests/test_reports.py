"""Segments on reports: four at most, sticky across reports, chart toggles, filters."""

from __future__ import annotations

from uuid import UUID, uuid4

from build_records import record_build

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}


async def make(client, h, n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = await client.post("/v1/segments", json={"name": f"S{i}", "rules": RULES}, headers=h)
        ids.append(r.json()["id"])
    return ids


async def test_up_to_four_with_sticky_ones_counting_everywhere(client, token):
    h = token()
    ids = await make(client, h, 5)
    sticky = await client.put(
        "/v1/reports/overview/segments", json={"segment_ids": ids[:2], "sticky": True}, headers=h
    )
    assert [s["label"] for s in sticky.json()] == ["S1", "S2"]
    on_sales = await client.put(
        "/v1/reports/sales/segments", json={"segment_ids": ids[2:4]}, headers=h
    )
    assert [(s["segment_id"], s["sticky"]) for s in on_sales.json()] == [
        (ids[0], True),
        (ids[1], True),
        (ids[2], False),
        (ids[3], False),
    ]
    too_many = await client.put(
        "/v1/reports/sales/segments", json={"segment_ids": ids[2:5]}, headers=h
    )
    assert too_many.status_code == 409 and too_many.json()["code"] == "limit_reached"
    other_report = (await client.get("/v1/reports/funnel/segments", headers=h)).json()
    assert [s["segment_id"] for s in other_report] == ids[:2]  # only the sticky ones
    someone_else = (await client.get("/v1/reports/sales/segments", headers=token(user="u2"))).json()
    assert someone_else == []  # applications are per user


async def test_remove_chart_toggle_and_bad_ids(client, token):
    h = token()
    ids = await make(client, h, 2)
    await client.put("/v1/reports/sales/segments", json={"segment_ids": ids}, headers=h)
    charted = await client.put(
        f"/v1/reports/sales/segments/{ids[1]}/chart", json={"apply_chart": True}, headers=h
    )
    assert [s["apply_chart"] for s in charted.json()] == [False, True]
    assert (
        await client.delete(f"/v1/reports/sales/segments/{ids[0]}", headers=h)
    ).status_code == 204
    assert (
        await client.delete(f"/v1/reports/sales/segments/{ids[0]}", headers=h)
    ).status_code == 404
    bad = await client.put(
        "/v1/reports/sales/segments",
        json={"segment_ids": [ids[1], ids[1], str(uuid4())]},
        headers=h,
    )
    assert bad.status_code == 422
    assert [(e["path"], e["code"]) for e in bad.json()["errors"]] == [
        ("segment_ids[1]", "duplicate"),
        ("segment_ids[2]", "not_found"),
    ]
    foreign = await make(client, token(account=uuid4()), 1)
    refused = await client.put(
        "/v1/reports/sales/segments", json={"segment_ids": foreign}, headers=h
    )
    assert refused.status_code == 422


async def test_the_filter_covers_built_segments_and_checks_identifiers(client, token, db):
    h = token()
    ids = await make(client, h, 2)
    async with db.acquire() as conn:
        await record_build(conn, UUID(ids[0]), member_count=1)
    await client.put("/v1/reports/sales/segments", json={"segment_ids": ids}, headers=h)
    filters = (
        await client.get(
            "/v1/reports/sales/segments/filter",
            params={"alias": "o", "id_column": "buyer_id"},
            headers=h,
        )
    ).json()
    assert [f["segment_id"] for f in filters] == [ids[0]]  # the unbuilt one has no table yet
    assert filters[0]["predicate_sql"].startswith("`o`.`buyer_id` IN (SELECT")
    hostile = await client.get(
        "/v1/reports/sales/segments/filter", params={"alias": "o; DROP TABLE x"}, headers=h
    )
    assert hostile.status_code == 422
