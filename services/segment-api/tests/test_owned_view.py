"""A user whose view scope is `owned` learns nothing of a colleague's segment: not by
its routes (walked from the OpenAPI document, as the tenancy walker does for
accounts), not through a rule that embeds it (preview, validate, create, edit,
duplicate), not on a report, not in the embeddable list, not by its name in a
refusal, and cannot make it undeletable. Pushes are walked in tests/test_pushes_visibility.py.
"""

from __future__ import annotations

from uuid import UUID

import pytest

from build_records import record_build
from route_walk import RULES, body_for, segment_routes
from segment_runtime.auth import ALL_ACCESS, Access, Scope

OWNED_VIEW = {**ALL_ACCESS, Scope.VIEW: Access.OWNED}


def embedding(segment_id: str) -> dict:
    return {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [{"type": "segment", "segment_id": segment_id, "operator": "in"}],
        },
    }


@pytest.fixture
async def colleague_segment(client, token, db) -> tuple[dict, dict[str, str]]:
    """u1 (who sees everything) owns a built segment, applied to u2's report while u2
    still saw the whole account."""
    owner = token(user="u1")
    segment = (
        await client.post("/v1/segments", json={"name": "Theirs", "rules": RULES}, headers=owner)
    ).json()
    async with db.acquire() as conn:
        await record_build(conn, UUID(segment["id"]), member_count=7)
    applied = await client.put(
        "/v1/reports/sales/segments",
        json={"segment_ids": [segment["id"]]},
        headers=token(user="u2"),
    )
    assert applied.status_code == 200, applied.text
    return segment, owner


async def test_every_route_naming_the_segment_answers_404(client, token, colleague_segment):
    segment, owner = colleague_segment
    viewer = token(user="u2", permissions=OWNED_VIEW)
    routes = segment_routes(client._transport.app)
    assert len(routes) >= 13
    for method, path in routes:
        url = path.replace("{segment_id}", segment["id"]).replace("{report}", "sales")
        body = body_for(method, path)
        response = await client.request(method, url, headers=viewer, json=body)
        assert response.status_code == 404, (method, path, response.text)
    listed = (await client.get("/v1/segments", headers=viewer)).json()
    assert segment["id"] not in [s["id"] for s in listed["items"]]
    assert (await client.get(f"/v1/segments/{segment['id']}", headers=owner)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("POST", "/v1/segments/preview", {}),
        ("POST", "/v1/segments", {"name": "Through theirs"}),
    ],
)
async def test_a_rule_embedding_it_reads_as_naming_no_segment(
    client, token, warehouse, colleague_segment, method, path, extra
):
    segment, _ = colleague_segment
    viewer = token(user="u2", permissions=OWNED_VIEW)
    response = await client.request(
        method, path, headers=viewer, json={"rules": embedding(segment["id"]), **extra}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("rules.root.rules[0].segment_id", "embedding_not_found")
    ]
    assert "Theirs" not in response.text
    assert warehouse.queries == []  # no count, no sample was asked for


async def test_validate_reports_it_as_create_would(client, token, warehouse, colleague_segment):
    segment, _ = colleague_segment
    viewer = token(user="u2", permissions=OWNED_VIEW)
    answer = await client.post(
        "/v1/segments/validate", headers=viewer, json={"rules": embedding(segment["id"])}
    )
    assert answer.status_code == 200
    assert answer.json()["valid"] is False
    assert [e["code"] for e in answer.json()["errors"]] == ["embedding_not_found"]
    assert warehouse.dry_runs == []


async def test_an_edit_cannot_embed_it_and_its_owner_can_still_delete_it(
    client, token, colleague_segment
):
    segment, owner = colleague_segment
    viewer = token(user="u2", permissions=OWNED_VIEW)
    mine = (
        await client.post("/v1/segments", json={"name": "Mine", "rules": RULES}, headers=viewer)
    ).json()
    edit = await client.patch(
        f"/v1/segments/{mine['id']}", headers=viewer, json={"rules": embedding(segment["id"])}
    )
    assert edit.status_code == 422, edit.text
    assert (await client.delete(f"/v1/segments/{segment['id']}", headers=owner)).status_code == 204


async def test_the_embeddable_list_and_the_report_leave_it_out(client, token, colleague_segment):
    segment, _ = colleague_segment
    viewer = token(user="u2", permissions=OWNED_VIEW)
    offered = (
        await client.get("/v1/segments/embeddable", params={"object": "customer"}, headers=viewer)
    ).json()
    assert segment["id"] not in [s["id"] for s in offered]
    applied = await client.get("/v1/reports/sales/segments", headers=viewer)
    assert applied.status_code == 200
    assert applied.json() == []
    filters = await client.get(
        "/v1/reports/sales/segments/filter",
        params={"alias": "c", "id_column": "id"},
        headers=viewer,
    )
    assert filters.status_code == 200
    assert segment["id"] not in filters.text
    refused = await client.put(
        "/v1/reports/sales/segments", json={"segment_ids": [segment["id"]]}, headers=viewer
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "segment_ids[0]"


async def test_a_refusal_does_not_name_segments_the_caller_cannot_see(
    client, token, colleague_segment
):
    """u1 embeds u2's segment (u1 sees everything); u2, with an owned view, cannot delete
    their own segment, and is told why without learning the name of u1's."""
    viewer = token(user="u2", permissions=OWNED_VIEW)
    owner = colleague_segment[1]
    mine = (
        await client.post("/v1/segments", json={"name": "Mine", "rules": RULES}, headers=viewer)
    ).json()
    parent = await client.post(
        "/v1/segments",
        json={"name": "Secret parent", "rules": embedding(mine["id"])},
        headers=owner,
    )
    assert parent.status_code == 201, parent.text
    refused = await client.delete(f"/v1/segments/{mine['id']}", headers=viewer)
    assert refused.status_code == 422
    assert "Secret parent" not in refused.text
    assert "1 segment(s) you cannot see" in refused.json()["detail"]


async def test_the_realtime_channel_is_the_owners_for_an_owned_view(client, token, account_id):
    from contracts.push import account_channel, owner_channel

    ACCOUNT = account_id  # noqa: N806

    viewer = token(user="u2", permissions=OWNED_VIEW)
    everyone = token(user="u1")
    mine = (await client.get("/v1/realtime/channel", headers=viewer)).json()["channel"]
    theirs = (await client.get("/v1/realtime/channel", headers=everyone)).json()["channel"]
    assert mine == owner_channel(ACCOUNT, "u2")
    assert theirs == account_channel(ACCOUNT)
    for channel, expected in [(account_channel(ACCOUNT), 403), (mine, 200)]:
        signed = await client.post(
            "/v1/realtime/pusher/auth",
            headers=viewer,
            data={"socket_id": "1.2", "channel_name": channel},
        )
        assert signed.status_code == expected, (channel, signed.text)
    disabled = token(user="u3", permissions={**ALL_ACCESS, Scope.VIEW: Access.DISABLED})
    assert (await client.get("/v1/realtime/channel", headers=disabled)).status_code == 403


@pytest.mark.parametrize("kind", ["unknown", "other object"])
async def test_validate_and_preview_refuse_what_create_refuses(client, token, warehouse, kind):
    """An embedded segment that does not exist, or is of another object type: validate
    says invalid (not `valid: true`), preview answers 422 (not 409), as create does."""
    h = token()
    if kind == "unknown":
        segment_id = "00000000-0000-4000-8000-0000000000aa"
        code = "embedding_not_found"
    else:
        sessions = {
            "object": "session",
            "root": {
                "type": "group",
                "rules": [
                    {"type": "property", "field": "duration_s", "operator": "gt", "value": 1}
                ],
            },
        }
        made = await client.post(
            "/v1/segments", json={"name": "Sessions", "rules": sessions}, headers=h
        )
        assert made.status_code == 201, made.text
        segment_id, code = made.json()["id"], "embedding_object_mismatch"
    body = {"rules": embedding(segment_id)}
    created = await client.post("/v1/segments", json={"name": "x", **body}, headers=h)
    validated = await client.post("/v1/segments/validate", json=body, headers=h)
    previewed = await client.post("/v1/segments/preview", json=body, headers=h)
    assert created.status_code == previewed.status_code == 422
    assert validated.json()["valid"] is False
    for answer in (
        created.json()["errors"],
        validated.json()["errors"],
        previewed.json()["errors"],
    ):
        assert [e["code"] for e in answer] == [code]
    assert warehouse.dry_runs == [] and warehouse.queries == []
