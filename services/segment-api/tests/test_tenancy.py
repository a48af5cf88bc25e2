"""Every route that names a segment answers another account's token with 404; the routes
come from the OpenAPI document, so a new route cannot be forgotten here."""

from __future__ import annotations

from uuid import UUID, uuid4

from build_records import record_build
from route_walk import RULES, body_for, segment_routes


async def test_another_account_finds_no_segment_anywhere(client, token, db):
    owner = token()
    segment = (
        await client.post("/v1/segments", json={"name": "Mine", "rules": RULES}, headers=owner)
    ).json()
    async with db.acquire() as conn:
        await record_build(conn, UUID(segment["id"]), member_count=1)
    await client.put(
        "/v1/reports/sales/segments", json={"segment_ids": [segment["id"]]}, headers=owner
    )
    intruder = token(account=uuid4())
    routes = segment_routes(client._transport.app)
    assert len(routes) >= 13  # guards against a walk that finds nothing
    for method, path in routes:
        url = path.replace("{segment_id}", segment["id"]).replace("{report}", "sales")
        body = body_for(method, path)
        response = await client.request(method, url, headers=intruder, json=body)
        assert response.status_code == 404, (method, path, response.text)
    preview = await client.post(
        "/v1/segments/preview", headers=intruder, json={"rules": RULES, "segment_id": segment["id"]}
    )
    assert preview.status_code == 404
    # and the owner still has everything
    assert (await client.get(f"/v1/segments/{segment['id']}", headers=owner)).status_code == 200
    applied = (await client.get("/v1/reports/sales/segments", headers=owner)).json()
    assert [a["segment_id"] for a in applied] == [segment["id"]]
