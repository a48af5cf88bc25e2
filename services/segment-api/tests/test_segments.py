from __future__ import annotations

import hashlib
import hmac
from uuid import uuid4

import pytest

from contracts.push import account_channel
from contracts.rules import RuleSet
from segment_runtime.auth import Access, Scope

PUSHER_SECRET = "pusher-test-secret"  # as the conftest configures the app

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}


def body(name: str = "Adults", rules: dict | None = None) -> dict:
    return {"name": name, "description": "over thirty", "rules": rules or RULES}


async def test_create_writes_the_segment_and_its_message_together(client, token, db):
    response = await client.post("/v1/segments", json=body("  Adults  "), headers=token())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "Adults"  # trimmed
    assert created["build_status"] == "pending" and created["rules_version"] == 1
    assert created["build"] is None  # the scheduler has not taken it up yet
    async with db.acquire() as conn:
        rows = await conn.fetch("SELECT topic, key, payload FROM outbox")
    mine = [r for r in rows if r["key"] == created["id"]]
    assert [(r["topic"], r["payload"]["data"]["change"]) for r in mine] == [
        ("segment.changed", "created")
    ]
    got = await client.get(f"/v1/segments/{created['id']}", headers=token())
    assert got.status_code == 200
    assert RuleSet.model_validate(got.json()["rules"]) == RuleSet.model_validate(RULES)


async def test_an_unknown_field_is_a_problem_naming_its_path(client, token, db):
    rules = {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                {"type": "property", "field": "age", "operator": "gt", "value": 1},
                {"type": "property", "field": "shoe_size", "operator": "gt", "value": 44},
            ],
        },
    }
    response = await client.post("/v1/segments", json=body(rules=rules), headers=token())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_condition"
    assert [(e["path"], e["code"]) for e in problem["errors"]] == [
        ("rules.root.rules[1].field", "unknown_field")
    ]
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM segments") == 0  # nothing half-written


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"name": "", "rules": RULES}, "name"),
        ({"name": "x" * 61, "rules": RULES}, "name"),
        ({"name": "ok"}, "rules"),
        (
            {
                "name": "ok",
                "rules": {
                    "object": "customer",
                    "root": {
                        "type": "group",
                        "rules": [
                            {"type": "property", "field": "age", "operator": "bigger", "value": 1}
                        ],
                    },
                },
            },
            "rules.root.rules[0].operator",
        ),
        ({"name": "ok", "rules": RULES, "colour": "red"}, "colour"),
    ],
)
async def test_a_malformed_body_is_a_problem_naming_its_path(client, token, payload, path):
    response = await client.post("/v1/segments", json=payload, headers=token())
    assert response.status_code == 422
    assert path in [e["path"] for e in response.json()["errors"]]


async def test_names_are_unique_among_an_accounts_active_segments(client, token):
    assert (
        await client.post("/v1/segments", json=body("Same"), headers=token())
    ).status_code == 201
    again = await client.post("/v1/segments", json=body("same"), headers=token())
    assert again.status_code == 422 and again.json()["code"] == "name_taken"
    assert again.json()["errors"][0]["path"] == "name"  # shown on the name field
    other_account = await client.post(
        "/v1/segments", json=body("Same"), headers=token(account=uuid4())
    )
    assert other_account.status_code == 201


async def test_another_accounts_segment_does_not_exist_for_you(client, token):
    created = (await client.post("/v1/segments", json=body(), headers=token())).json()
    intruder = token(account=uuid4())
    assert (await client.get(f"/v1/segments/{created['id']}", headers=intruder)).status_code == 404
    listed = await client.get("/v1/segments", headers=intruder)
    assert [i["name"] for i in listed.json()["items"]] == ["All Data"]  # their own default


async def test_without_a_valid_token_nothing_is_answered(client):
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        response = await client.get("/v1/segments", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_permissions_gate_create_and_view(client, token):
    no_add = token(permissions={Scope.VIEW: Access.ALL, Scope.ADD: Access.DISABLED})
    assert (await client.post("/v1/segments", json=body(), headers=no_add)).status_code == 403
    mine = (await client.post("/v1/segments", json=body("Mine"), headers=token(user="a"))).json()
    own_only = token(user="b", permissions={Scope.VIEW: Access.OWNED})
    assert (await client.get(f"/v1/segments/{mine['id']}", headers=own_only)).status_code == 404
    assert (await client.get("/v1/segments", headers=own_only)).json()["total"] == 0
    no_view = token(permissions={Scope.VIEW: Access.DISABLED})
    assert (await client.get("/v1/segments", headers=no_view)).status_code == 403


async def test_pusher_subscriptions_are_signed_for_the_own_account_only(client, token):
    account = uuid4()
    headers = token(account=account)
    own = account_channel(account)
    signed = await client.post(
        "/v1/realtime/pusher/auth",
        headers=headers,
        data={"socket_id": "123.456", "channel_name": own},
    )
    assert signed.status_code == 200, signed.text
    key, signature = signed.json()["auth"].split(":")
    expected = hmac.new(
        PUSHER_SECRET.encode(), f"123.456:{own}".encode(), hashlib.sha256
    ).hexdigest()
    assert (key, signature) == ("key", expected)
    foreign = await client.post(
        "/v1/realtime/pusher/auth",
        headers=headers,
        data={"socket_id": "123.456", "channel_name": account_channel(uuid4())},
    )
    assert foreign.status_code == 403
    unsigned = await client.post(
        "/v1/realtime/pusher/auth", data={"socket_id": "123.456", "channel_name": own}
    )
    assert unsigned.status_code == 401


def _one(condition: dict) -> dict:
    return {"object": "customer", "root": {"type": "group", "rules": [condition]}}


_CART = {"event": "ecommerce", "name": "add_to_cart"}


@pytest.mark.parametrize(
    ("condition", "path", "code"),
    [
        ({"type": "sequence", "steps": [_CART]}, "rules.root.rules[0].steps", None),
        (
            {
                "type": "sequence",
                "steps": [_CART, {**_CART, "within_days": 9}],
                "total_within_days": 3,
            },
            "rules.root.rules[0].steps[1].within_days",
            "gap_exceeds_window",
        ),
        (
            {"type": "sequence", "steps": [_CART, {"event": "teleport"}]},
            "rules.root.rules[0].steps[1].event",
            "unknown_event",
        ),
        (
            {"type": "sequence", "steps": [_CART] * 6},  # the standard plan allows 5
            "rules.root.rules[0].steps",
            "limit_exceeded",
        ),
        (
            {"type": "regularly", **_CART, "period": "week", "at_least": 5, "of_last": 4},
            "rules.root.rules[0].at_least",
            "invalid_value",
        ),
    ],
)
async def test_a_bad_behaviour_condition_is_a_problem_naming_its_path(
    client, token, db, condition, path, code
):
    response = await client.post("/v1/segments", json=body(rules=_one(condition)), headers=token())
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert path in [e["path"] for e in errors]
    if code is not None:
        assert [(e["path"], e["code"]) for e in errors] == [(path, code)]
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM segments") == 0


async def test_a_sequence_is_saved_and_read_back_as_written(client, token):
    rules = _one(
        {
            "type": "sequence",
            "steps": [_CART, {"event": "ecommerce", "name": "checkout", "within_days": 2}],
            "then_not": {"event": "ecommerce", "name": "purchase", "within_days": 2},
            "window": {"kind": "previous_days", "days": 30},
        }
    )
    created = await client.post("/v1/segments", json=body(rules=rules), headers=token())
    assert created.status_code == 201, created.text
    got = await client.get(f"/v1/segments/{created.json()['id']}", headers=token())
    assert RuleSet.model_validate(got.json()["rules"]) == RuleSet.model_validate(rules)
    # the RFC's criteria rows cannot say "in order": the note says why there are none
    assert got.json()["rule_set"] is None
    assert got.json()["rule_set_note"] == "sequence conditions have no criteria form"


async def test_the_palette_says_which_events_take_behaviour_conditions(client, token):
    answer = await client.get("/v1/objects/customer/fields", headers=token())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    ecommerce = next(e for e in body["events"] if e["name"] == "ecommerce")
    assert ecommerce["relation"] == "events"
    assert ecommerce["behaviours"] == [
        "sequence",
        "occurrence",
        "stopped",
        "restarted",
        "regularly",
    ]
    assert "add_to_cart" in ecommerce["names"]
    product = next(f for f in ecommerce["fields"] if f["name"] == "product")
    assert "contains" in product["operators"]
    assert body["periods"] == {"day": 366, "week": 104, "month": 60}
