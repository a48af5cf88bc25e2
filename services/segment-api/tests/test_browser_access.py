"""What a browser page needs from the gateway: a session cookie (httpOnly) with CSRF
protection as an alternative to the bearer header, CORS for configured origins only,
and API docs that load with no CDN."""

from __future__ import annotations

import re

import httpx
import pytest
from redis.asyncio import Redis

from segment_api.http.app import create_app, wire
from segment_api.settings import Settings

PAGE = "http://127.0.0.1:5173"


def settings(database_url: str, **extra: str) -> Settings:
    return Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP": "127.0.0.1:1",
            "JWT_SECRET": "api-test-secret-long-enough-for-hs256",
            "PUSHER_APP_ID": "1",
            "PUSHER_KEY": "key",
            "PUSHER_SECRET": "pusher-test-secret",
            "PUSHER_HOST": "127.0.0.1",
            "PUSHER_PORT": 1,
            "BIGQUERY_PROJECT": "proj",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            **extra,
        }
    )


@pytest.fixture
async def page_client(db, database_url, warehouse):
    """The gateway as a page on another origin sees it: CORS for that origin, cookies kept."""
    s = settings(
        database_url, CORS_ORIGINS=f"{PAGE}, http://other.test", SESSION_COOKIE_SECURE="false"
    )
    app = create_app(s)
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    wire(app, s, db, warehouse, redis)
    app.state.limiter = None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8400"
    ) as c:
        yield c
    await redis.aclose()


async def test_a_session_cookie_works_and_changes_need_the_csrf_token(page_client, token):
    bearer = token()["Authorization"].removeprefix("Bearer ")
    opened = await page_client.post("/v1/session", json={"token": bearer})
    assert opened.status_code == 200, opened.text
    set_cookie = opened.headers.get_list("set-cookie")
    session = next(c for c in set_cookie if c.startswith("segp_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    csrf = opened.json()["csrf_token"]
    assert page_client.cookies.get("segp_csrf") == csrf

    listed = await page_client.get("/v1/segments")  # the cookie alone reads
    assert listed.status_code == 200
    body = {
        "name": "From a page",
        "rules": {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": "age", "operator": "gt", "value": 1}],
            },
        },
    }
    refused = await page_client.post("/v1/segments", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    forged = await page_client.post("/v1/segments", json=body, headers={"X-CSRF-Token": "guess"})
    assert forged.status_code == 403
    made = await page_client.post("/v1/segments", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text

    closed = await page_client.delete("/v1/session", headers={"X-CSRF-Token": csrf})
    assert closed.status_code == 204
    assert (await page_client.get("/v1/segments")).status_code == 401


async def test_a_bad_token_opens_no_session(page_client):
    answer = await page_client.post("/v1/session", json={"token": "not-a-jwt-at-all"})
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers


async def test_cors_answers_configured_origins_only(page_client):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-csrf-token",
    }
    ok = await page_client.options("/v1/segments", headers={"Origin": PAGE, **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == PAGE
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert "x-csrf-token" in ok.headers["access-control-allow-headers"].lower()
    other = await page_client.options(
        "/v1/segments", headers={"Origin": "http://evil.test", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers


async def test_no_cors_unless_configured(client):
    answer = await client.get("/health", headers={"Origin": PAGE})
    assert "access-control-allow-origin" not in answer.headers


async def test_the_docs_load_from_local_files(client):
    for path, script in (
        ("/docs", "/docs/assets/swagger-ui-bundle.js"),
        ("/redoc", "/redoc/assets/redoc.standalone.js"),
    ):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert script in page.text
        assert not re.search(
            r"https?://(?!127\\.0\\.0\\.1)", page.text.replace("http://www.w3.org", "")
        ), path
        asset = await client.get(script)
        assert asset.status_code == 200 and len(asset.content) > 100_000


async def test_operation_ids_are_the_route_names(client):
    spec = client._transport.app.openapi()
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z_]+", i) for i in ids), ids
    assert {"create_segment", "preview_rules", "pusher_auth"} <= set(ids)
