"""Inputs that once answered 500: each is now a 422 problem naming the field, and nothing
is written."""

from __future__ import annotations

import json

import pytest

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 30}],
    },
}


def legacy(group: dict) -> dict:
    return {"name": "legacy", "ruleGroups": [group]}


AGE = {"key": "age", "condition": "greater-than", "value": 30}

CASES = [
    pytest.param(
        "POST",
        "/v1/segments",
        json.dumps({"name": "a\x00b", "rules": RULES}),
        "name",
        id="NUL in name",
    ),
    pytest.param(
        "POST",
        "/v1/segments",
        json.dumps({"name": "ok", "description": "d\x00", "rules": RULES}),
        "description",
        id="NUL in description",
    ),
    pytest.param("GET", "/v1/segments?search=a%00b", None, "query.search", id="NUL in search"),
    pytest.param(
        "POST",
        "/v1/segments",
        json.dumps(
            {
                "name": "nul value",
                "rules": {
                    "object": "customer",
                    "root": {
                        "type": "group",
                        "rules": [
                            {
                                "type": "property",
                                "field": "city",
                                "operator": "equals",
                                "value": "J\x00",
                            }
                        ],
                    },
                },
            }
        ),
        "rules",
        id="NUL in a rule value",
    ),
    pytest.param(
        "POST",
        "/v1/segments",
        json.dumps(legacy({"g0": "x"})),
        "ruleGroups[0].g0",
        id="g0 a string",
    ),
    pytest.param(
        "POST",
        "/v1/segments",
        json.dumps(legacy({"g0": [1, 2]})),
        "ruleGroups[0].g0",
        id="g0 a list",
    ),
    pytest.param(
        "POST",
        "/v1/segments",
        json.dumps(legacy({"dateRangeFilter": "x", "g0": AGE})),
        "ruleGroups[0].dateRangeFilter",
        id="dateRangeFilter a string",
    ),
    pytest.param(
        "POST",
        "/v1/segments",
        json.dumps(legacy({"g" + "1" * 5000: AGE})),
        "ruleGroups[0].g11111111111…",
        id="a group key of 5,000 digits",
    ),
    pytest.param(
        "POST",
        "/v1/segments",
        json.dumps({"name": "inf", "rules": RULES}).replace('"value": 30', '"value": Infinity'),
        "rules.root.rules[0].value",
        id="Infinity",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES)
async def test_bad_input_is_a_problem_naming_the_field(
    client, token, db, method, path, body, field
):
    response = await client.request(
        method,
        path,
        headers={**token(), "content-type": "application/json"},
        content=body,
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["status"] == 422
    paths = [e["path"] for e in problem["errors"]]
    assert any(
        p == field or p.startswith(field + ".") or p.startswith(field + "[") for p in paths
    ), paths
    async with db.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM segments WHERE is_custom") == 0
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE topic = 'segment.changed'"
                " AND payload->'data'->>'change' = 'created'"
            )
            <= 1
        )  # All Data only
