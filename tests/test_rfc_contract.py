"""The CRM RFC's frontend contract, against the live gateway, written from the RFC's own
tables (../shared/seeds/004: "APIs Consumed", "State Surface Contract", "Failure Mode
Catalog", "Error Message Catalog"): one case per row, with the request and response
names and the status codes the existing frontend sends and reads."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from contracts.limits import PLANS
from e2e import DEADLINE_S, wait_for
from segment_runtime.auth import ALL_ACCESS, Access, Scope, issue_token

pytestmark = pytest.mark.stack

CITY = {
    "field": "city",
    "fieldType": "single_line_text",
    "fieldCategory": "default",
    "condition": "equals",
    "value": "Jakarta",
}
ADULT = {
    "field": "age",
    "fieldType": "number",
    "fieldCategory": "default",
    "condition": "gte",
    "value": 18,
    "operator": "and",
}
CONSENT = {
    "field": "whatsapp_opt_in",
    "fieldType": "boolean",
    "fieldCategory": "consent",
    "condition": "is",
    "value": True,
}
RULE_SET = {"operator": "or", "groups": [{"criteria": [CITY, ADULT]}, {"criteria": [CONSENT]}]}


def client(stack, account=None, **access: Access) -> httpx.AsyncClient:
    """The frontend, as one user of one account with the given scopes."""
    permissions = {**ALL_ACCESS, **{Scope[k.upper()]: v for k, v in access.items()}}
    token = issue_token(
        stack.cfg.secrets["jwt_secret"],
        account_id=account or stack.account_id,
        user_id="rfc",
        permissions=permissions,
    )
    return httpx.AsyncClient(
        base_url=stack.api, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


async def made(http: httpx.AsyncClient, name: str) -> dict[str, Any]:
    created = await http.post(
        "/v1/segments", json={"name": name, "description": "from the RFC", "rule_set": RULE_SET}
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def built(http: httpx.AsyncClient, segment_id: str) -> None:
    async def done() -> bool:
        return bool((await http.get(f"/v1/segments/{segment_id}")).json()["built_at"])

    await wait_for(done, timeout_s=DEADLINE_S)


# --- APIs Consumed -------------------------------------------------------------------


async def test_get_segments_paginated_with_the_rfc_parameters(stack):
    async with client(stack) as http:
        await made(http, f"RFC list {uuid4().hex[:6]}")
        listed = await http.get(
            "/v1/segments",
            params={
                "page": 1,
                "per_page": 5,
                "search": "rfc list",
                "status": "active",
                "created_at_from": "2020-01-01T00:00:00Z",
                "created_at_to": "2100-01-01T00:00:00Z",
            },
        )
    assert listed.status_code == 200
    body = listed.json()
    assert {"items", "page", "per_page", "total"} <= body.keys()
    assert body["items"] and all("rfc list" in i["name"].lower() for i in body["items"])


async def test_post_segments_with_name_description_rule_set(stack):
    async with client(stack) as http:
        segment = await made(http, f"RFC create {uuid4().hex[:6]}")
    assert segment["id"] and segment["status"] == "active"


async def test_get_segment_returns_rule_set_for_edit_load(stack):
    async with client(stack) as http:
        segment = await made(http, f"RFC get {uuid4().hex[:6]}")
        shown = (await http.get(f"/v1/segments/{segment['id']}")).json()
    groups = shown["rule_set"]["groups"]
    assert [[r["field"] for r in g["criteria"]] for g in groups] == [
        ["city", "age"],
        ["whatsapp_opt_in"],
    ]
    assert shown["rule_set"]["operator"] == "or"
    assert (
        groups[1]["criteria"][0]["condition"] == "is" and groups[1]["criteria"][0]["value"] is True
    )


async def test_patch_segment_name_description_rule_set(stack):
    async with client(stack) as http:
        segment = await made(http, f"RFC patch {uuid4().hex[:6]}")
        patched = await http.patch(
            f"/v1/segments/{segment['id']}",
            json={
                "name": segment["name"] + " (2)",
                "description": "changed",
                "rule_set": {"groups": [{"criteria": [CITY]}]},
            },
        )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["description"], len(body["rule_set"]["groups"])) == ("changed", 1)


async def test_preview_returns_total_matched_total_customer_base_and_sample(stack):
    async with client(stack) as http:
        preview = await http.post("/v1/segments/preview", json={"rule_set": RULE_SET})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["total_customer_base"] == len(stack.customers)
    assert 0 < body["total_matched"] <= body["total_customer_base"]
    assert isinstance(body["sample"], list) and body["sample"]


async def test_archive_and_duplicate(stack):
    async with client(stack) as http:
        segment = await made(http, f"RFC archive {uuid4().hex[:6]}")
        duplicated = await http.post(f"/v1/segments/{segment['id']}/duplicate")
        archived = await http.post(f"/v1/segments/{segment['id']}/archive")
    assert duplicated.status_code == 201 and duplicated.json()["id"] != segment["id"]
    assert archived.status_code == 200 and archived.json()["status"] == "archived"


async def test_detail_and_the_state_surface_contract(stack):
    async with client(stack) as http:
        segment = await made(http, f"RFC detail {uuid4().hex[:6]}")
        await built(http, segment["id"])
        detail = (await http.get(f"/v1/segments/{segment['id']}/detail")).json()
        performance = await http.get(f"/v1/segments/{segment['id']}/performance")
    assert detail["status"] == "active"
    assert detail["total_matched"] > 0
    assert isinstance(detail["percentage_reach"], float)
    assert detail["last_updated"]
    for channel in ("whatsapp", "email"):
        assert 0 <= detail["reachability"][f"{channel}_pct"] <= 100
    assert performance.status_code == 200
    assert {"source", "domicile", "age_band", "gender"} <= performance.json()[
        "distributions"
    ].keys()


async def test_customer_fields_reachability_and_recipients(stack):
    async with client(stack) as http:
        fields = (await http.get("/v1/customers/fields")).json()
        assert {"id", "name", "fieldType", "fieldCategory", "conditions"} <= fields["fields"][
            0
        ].keys()
        segment = await made(http, f"RFC campaign {uuid4().hex[:6]}")
        await built(http, segment["id"])
        audience = (await http.get(f"/v1/segments/{segment['id']}/reachability")).json()
        frozen = await http.post(
            f"/v1/segments/{segment['id']}/recipients", json={"channel": "whatsapp"}
        )
    assert frozen.status_code == 201, frozen.text
    assert frozen.json()["recipients"] == audience["whatsapp"]["reachable"]


# --- Failure Mode Catalog and Error Message Catalog ------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/segments", None),
        ("POST", "/v1/segments/preview", {"rule_set": RULE_SET}),
        ("POST", "/v1/segments", {"name": "x", "rule_set": RULE_SET}),
        ("POST", f"/v1/segments/{uuid4()}/archive", None),
    ],
)
async def test_401_sends_the_frontend_to_login(stack, method, path, body):
    async with httpx.AsyncClient(base_url=stack.api) as http:
        answer = await http.request(method, path, json=body)
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("scope", "method", "path", "body"),
    [
        ("view", "GET", "/v1/segments", None),
        ("view", "POST", "/v1/segments/preview", {"rule_set": RULE_SET}),
        ("add", "POST", "/v1/segments", {"name": "nope", "rule_set": RULE_SET}),
    ],
)
async def test_403_is_permission_denied(stack, scope, method, path, body):
    async with client(stack, **{scope: Access.DISABLED}) as http:
        answer = await http.request(method, path, json=body)
    assert answer.status_code == 403
    assert answer.json()["code"] == "permission_denied"


async def test_archive_403_and_404(stack):
    async with client(stack) as http:
        segment = await made(http, f"RFC 403 {uuid4().hex[:6]}")
    async with client(stack, archived=Access.DISABLED) as http:
        denied = await http.post(f"/v1/segments/{segment['id']}/archive")
    async with client(stack) as http:
        missing = await http.post(f"/v1/segments/{uuid4()}/archive")
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


async def test_preview_429_is_too_many_requests(stack):
    account = uuid4()  # its own account: the limit is per account
    async with client(stack, account=account) as http:
        await http.get("/v1/segments")  # provisions the account
        for _ in range(300):  # its account has no data: each answers fast (503) until 429
            preview = await http.post("/v1/segments/preview", json={"rule_set": RULE_SET})
            if preview.status_code == 429:
                break
    assert preview.status_code == 429
    assert preview.json()["code"] == "rate_limited"
    assert int(preview.headers["Retry-After"]) > 0


async def test_409_on_create_means_segment_limit_reached(stack):
    account = uuid4()
    conn = await asyncpg.connect(stack.cfg.database_url)
    try:
        await conn.execute(
            "INSERT INTO accounts (id, name, plan) VALUES ($1, 'rfc', 'plus')", account
        )
        for i in range(PLANS["plus"].max_segments):  # fill the plan without building 50
            await conn.execute(
                "INSERT INTO segments (id, account_id, name, object_type, rules, created_by)"
                " VALUES ($1, $2, $3, 'customer', $4, 'rfc')",
                uuid4(),
                account,
                f"filler {i}",
                json.dumps(
                    {
                        "object": "customer",
                        "root": {
                            "type": "group",
                            "rules": [
                                {"type": "property", "field": "age", "operator": "gt", "value": 1}
                            ],
                        },
                    }
                ),
            )
    finally:
        await conn.close()
    async with client(stack, account=account) as http:
        answer = await http.post(
            "/v1/segments", json={"name": "one too many", "rule_set": RULE_SET}
        )
    assert answer.status_code == 409
    assert answer.json()["code"] == "limit_reached"


async def test_422_is_shown_on_the_condition_row(stack):
    bad = {**ADULT, "value": "eighteen"}
    async with client(stack) as http:
        rule_set = {"groups": [{"criteria": [CITY]}, {"criteria": [bad]}]}
        for path, body in (
            ("/v1/segments", {"name": "bad row", "rule_set": rule_set}),
            ("/v1/segments/preview", {"rule_set": rule_set}),
        ):
            answer = await http.post(path, json=body)
            assert answer.status_code == 422, path
            assert answer.json()["code"] == "invalid_condition"
            assert answer.json()["errors"][0]["path"] == "rule_set.groups[1].criteria[0].value"


async def test_a_taken_name_is_not_a_409(stack):
    async with client(stack) as http:
        segment = await made(http, f"RFC name {uuid4().hex[:6]}")
        again = await http.post(
            "/v1/segments", json={"name": segment["name"], "rule_set": RULE_SET}
        )
    assert again.status_code == 422
    assert (again.json()["code"], again.json()["errors"][0]["path"]) == ("name_taken", "name")
