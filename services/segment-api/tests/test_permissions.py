"""The permission matrix: each of the four scopes at all, owned and disabled, on the
routes it governs, for a segment the caller created and one someone else created."""

from __future__ import annotations

from uuid import uuid4

import pytest

from segment_runtime.auth import Access, Scope

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}
ALL, OWNED, OFF = Access.ALL, Access.OWNED, Access.DISABLED

# scope under test → (method, path suffix, body, status when allowed)
ACTIONS = {
    Scope.MANAGE: [("patch", "", {"name": "renamed"}, 200), ("post", "/rebuild", None, 202)],
    Scope.ARCHIVED: [("post", "/archive", None, 200)],
    Scope.VIEW: [("get", "", None, 200), ("get", "/embeddable", None, 200)],
}


@pytest.mark.parametrize("scope", list(ACTIONS))
@pytest.mark.parametrize("access", [ALL, OWNED, OFF])
@pytest.mark.parametrize("mine", [True, False])
async def test_scope_matrix(client, token, scope, access, mine):
    account = uuid4()
    creator = "me" if mine else "someone-else"
    segment = (
        await client.post(
            "/v1/segments",
            json={"name": f"s-{uuid4().hex[:6]}", "rules": RULES},
            headers=token(account=account, user=creator),
        )
    ).json()
    # every other scope wide open, so only the one under test decides
    permissions = dict.fromkeys(Scope, ALL) | {scope: access}
    caller = token(account=account, user="me", permissions=permissions)
    for method, suffix, body, allowed in ACTIONS[scope]:
        response = await client.request(
            method.upper(), f"/v1/segments/{segment['id']}{suffix}", headers=caller, json=body
        )
        if access is ALL or (access is OWNED and mine):
            expected = allowed
        elif scope is Scope.VIEW:
            expected = 403 if access is OFF else 404  # owned view: others' segments are unseen
        else:
            expected = 403
        assert response.status_code == expected, (scope, access, mine, method, suffix)


@pytest.mark.parametrize(("access", "expected"), [(ALL, 201), (OWNED, 201), (OFF, 403)])
async def test_add_scope_gates_create_and_duplicate(client, token, access, expected):
    account = uuid4()
    base = (
        await client.post(
            "/v1/segments", json={"name": "Base", "rules": RULES}, headers=token(account=account)
        )
    ).json()
    caller = token(account=account, permissions=dict.fromkeys(Scope, ALL) | {Scope.ADD: access})
    created = await client.post(
        "/v1/segments", json={"name": "New", "rules": RULES}, headers=caller
    )
    copied = await client.post(f"/v1/segments/{base['id']}/duplicate", headers=caller)
    assert (created.status_code, copied.status_code) == (expected, expected)


async def test_the_plans_segment_limit_is_a_409(client, token, db):
    account = uuid4()
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO accounts (id, name, plan) VALUES ($1, 'a', 'plus')", account
        )
        await conn.execute("UPDATE accounts SET plan = 'plus' WHERE id = $1", account)
    h = token(account=account)
    from contracts.limits import PLANS

    limit = PLANS["plus"].max_segments
    async with db.acquire() as conn:  # fill the plan without 50 HTTP round trips
        for i in range(limit):
            await conn.execute(
                "INSERT INTO segments (id, account_id, name, object_type, rules, created_by)"
                " VALUES ($1, $2, $3, 'customer', $4, 'x')",
                uuid4(),
                account,
                f"s{i}",
                RULES,
            )
    over = await client.post(
        "/v1/segments", json={"name": "One too many", "rules": RULES}, headers=h
    )
    assert over.status_code == 409
    assert over.json()["code"] == "limit_reached"


async def test_the_plan_is_shown_to_users_and_set_only_by_an_operator(client, token, account_id):
    from segment_runtime.auth import ALL_ACCESS, Access, Scope

    mine = (await client.get("/v1/account", headers=token())).json()
    assert (mine["plan"], mine["limits"]["max_groups"]) == ("standard", 10)
    denied = await client.put(
        f"/v1/accounts/{account_id}/plan", json={"plan": "plus"}, headers=token()
    )
    assert denied.status_code == 403
    operator = token(permissions={**ALL_ACCESS, Scope.OPERATOR: Access.ALL})
    unknown = await client.put(
        f"/v1/accounts/{account_id}/plan", json={"plan": "gold"}, headers=operator
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["path"] == "plan"
    done = await client.put(
        f"/v1/accounts/{account_id}/plan", json={"plan": "plus"}, headers=operator
    )
    assert done.status_code == 200 and done.json()["limits"]["max_groups"] == 2
    shown = (await client.get("/v1/account", headers=token())).json()
    assert (shown["plan"], shown["limits"]["max_conditions_per_group"]) == ("plus", 3)
