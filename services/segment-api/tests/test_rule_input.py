"""The gateway takes the full language and the older shape, within plan limits."""

from __future__ import annotations

from uuid import uuid4

LEGACY = {
    "ruleGroups": [
        {
            "mainOperator": "include",
            "conjunction": "and",
            "segmentObject": "customer",
            "conditionFocus": "property",
            "g0": {"type": "number", "key": "age", "condition": "greater-than", "value": 30},
        },
        {
            "mainOperator": "exclude",
            "conjunction": "and",
            "segmentObject": "customer",
            "conditionFocus": "metric",
            "dateRangeFilter": {"type": "previous-period", "numberOfDaysPrevious": 90},
            "g0": {"type": "metric", "key": "orders_total", "condition": "equals", "value": 0},
        },
    ]
}

FULL = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [
            {"type": "property", "field": "tags", "operator": "contains_any", "value": ["vip"]},
            {
                "type": "event",
                "event": "web_conversion",
                "name": "signup",
                "operator": "did_not_perform",
                "window": {"kind": "previous_days", "days": 30},
            },
            {
                "type": "relationship",
                "relation": "deals",
                "operator": "gte",
                "value": 1,
                "filters": [{"type": "property", "field": "won", "operator": "is_true"}],
            },
            {"type": "metric", "metric": "recency_days", "operator": "lte", "value": 60},
        ],
    },
}


async def test_the_older_shape_is_stored_in_the_canonical_form(client, token):
    response = await client.post("/v1/segments", json={"name": "Legacy", **LEGACY}, headers=token())
    assert response.status_code == 201, response.text
    rules = response.json()["rules"]
    assert rules["object"] == "customer"
    include, exclude = rules["root"]["rules"]
    assert include["rules"][0] == {
        "type": "property",
        "field": "age",
        "operator": "gt",
        "value": 30,
    }
    assert exclude["negate"] is True
    assert exclude["window"] == {"kind": "previous_days", "days": 90}


async def test_the_full_language_is_accepted(client, token):
    response = await client.post(
        "/v1/segments", json={"name": "Full", "rules": FULL}, headers=token()
    )
    assert response.status_code == 201, response.text


async def test_an_unconvertible_older_shape_names_the_condition(client, token):
    bad = {
        "ruleGroups": [
            {
                "segmentObject": "customer",
                "g0": {"key": "age", "condition": "teleports", "value": 1},
            }
        ]
    }
    response = await client.post("/v1/segments", json={"name": "x", **bad}, headers=token())
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["ruleGroups[0].g0"]


async def test_both_or_neither_shape_is_a_problem(client, token):
    both = await client.post(
        "/v1/segments", json={"name": "x", "rules": FULL, **LEGACY}, headers=token()
    )
    neither = await client.post("/v1/segments", json={"name": "x"}, headers=token())
    assert both.status_code == neither.status_code == 422


async def test_custom_fields_of_the_account_are_in_its_catalog(client, token, db):
    account = uuid4()
    rules = {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [{"type": "property", "field": "cf_shoe_size", "operator": "gt", "value": 40}],
        },
    }
    before = await client.post(
        "/v1/segments", json={"name": "Feet", "rules": rules}, headers=token(account=account)
    )
    assert before.status_code == 422  # not a field of this account (yet)
    async with db.acquire() as conn:
        await conn.execute("INSERT INTO accounts (id, name) VALUES ($1, 'a')", account)
        await conn.execute(
            "INSERT INTO custom_fields (account_id, object_type, name, field_type,"
            " label) VALUES ($1, 'customer', 'cf_shoe_size', 'number', 'Shoe')",
            account,
        )
    after = await client.post(
        "/v1/segments", json={"name": "Feet", "rules": rules}, headers=token(account=account)
    )
    assert after.status_code == 201, after.text
    other = await client.post(
        "/v1/segments", json={"name": "Feet", "rules": rules}, headers=token(account=uuid4())
    )
    assert other.status_code == 422  # another account's custom field is not yours


async def test_plan_limits_are_enforced_by_the_server(client, token, db):
    account = uuid4()
    async with db.acquire() as conn:
        await conn.execute(
            "INSERT INTO accounts (id, name, plan) VALUES ($1, 'a', 'plus')", account
        )
    four = [{"type": "property", "field": "age", "operator": "gt", "value": n} for n in range(4)]
    rules = {"object": "customer", "root": {"type": "group", "rules": four}}
    response = await client.post(
        "/v1/segments", json={"name": "Many", "rules": rules}, headers=token(account=account)
    )
    assert response.status_code == 422
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [
        ("rules.root.rules", "limit_exceeded")
    ]


async def test_validate_shows_the_sql_and_the_dry_run(client, token, warehouse):
    response = await client.post("/v1/segments/validate", json={"rules": FULL}, headers=token())
    body = response.json()
    assert response.status_code == 200, body
    assert body["valid"] is True
    assert "SELECT DISTINCT `t`.`customer_id` AS `object_id` FROM `proj`." in body["sql"]
    assert body["dry_run"] == {"ok": True, "error": None, "bytes_processed": 0}
    ((sql, params),) = warehouse.dry_runs
    assert sql == body["sql"]
    assert params["p0"] == ["vip"]


async def test_validate_counts_days_in_the_accounts_zone(client, token, warehouse, db, account):
    """As previews and builds do: at 20:00 UTC it is already tomorrow in Kiritimati."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    async with db.acquire() as conn:
        await conn.execute(
            "UPDATE accounts SET time_zone = 'Pacific/Kiritimati' WHERE id = $1", account
        )
    windowed = {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                {"type": "property", "field": "created_on", "operator": "in_last_days", "value": 7}
            ],
        },
    }
    response = await client.post(
        "/v1/segments/validate", json={"rules": windowed}, headers=token(account=account)
    )
    assert response.status_code == 200, response.text
    ((_, params),) = warehouse.dry_runs
    assert params["build_date"] == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()


async def test_validate_reports_every_error_and_dry_run_failures(client, token, warehouse):
    bad = {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                {"type": "property", "field": "nope", "operator": "gt", "value": 1},
                {"type": "metric", "metric": "total_spent", "operator": "contains", "value": 1},
            ],
        },
    }
    invalid = (
        await client.post("/v1/segments/validate", json={"rules": bad}, headers=token())
    ).json()
    assert invalid["valid"] is False
    assert [e["path"] for e in invalid["errors"]] == [
        "rules.root.rules[0].field",
        "rules.root.rules[1].operator",
    ]
    assert warehouse.dry_runs == []  # nothing is sent to BigQuery for a rule set with errors
    warehouse.missing = "customers"
    failed = (
        await client.post("/v1/segments/validate", json={"rules": FULL}, headers=token())
    ).json()
    assert failed["valid"] is False
    assert failed["dry_run"]["error"].startswith("Not found")


async def test_a_preview_past_its_budget_is_a_504_with_a_clear_code(client, token, warehouse):
    response = await client.post("/v1/segments/preview", json={"rules": FULL}, headers=token())
    assert response.status_code == 504
    assert response.json()["code"] == "preview_timeout"
    assert len(warehouse.queries) == 1  # it stopped at the first query past the budget


async def test_expensive_routes_are_rate_limited_per_account(client, token, redis_prefix):
    from redis.asyncio import Redis

    from segment_api.http.ratelimit import RateLimiter

    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    client._transport.app.state.limiter = RateLimiter(redis, redis_prefix + uuid4().hex[:6], 2)
    mine, theirs = token(account=uuid4()), token(account=uuid4())
    codes = [
        (await client.post("/v1/segments/validate", json={"rules": FULL}, headers=mine)).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    limited = await client.post("/v1/segments/validate", json={"rules": FULL}, headers=mine)
    assert limited.json()["code"] == "rate_limited"
    assert 0 < int(limited.headers["retry-after"]) <= 60
    assert (
        await client.post("/v1/segments/validate", json={"rules": FULL}, headers=theirs)
    ).status_code == 200
    await redis.aclose()


async def test_warehouse_refusals_are_clear_problems(client, token, warehouse):
    from segment_api.shared.ports import WarehouseError

    warehouse.error = WarehouseError("Not found: Dataset acct_x", missing=True)
    missing = await client.post("/v1/segments/preview", json={"rules": FULL}, headers=token())
    assert (missing.status_code, missing.json()["code"]) == (503, "warehouse_unavailable")
    warehouse.error = WarehouseError("Resources exceeded", missing=False)
    failed = await client.post("/v1/segments/preview", json={"rules": FULL}, headers=token())
    assert (failed.status_code, failed.json()["code"]) == (502, "warehouse_error")
