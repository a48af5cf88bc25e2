"""The web console as the gateway serves it: its build from disk under /console (any
screen's path answers the app, assets by name, nothing outside the build), a clear 503
when it was never built, and the two facts it reads that the API did not say before:
the caller's permission keys and where the Pusher server is."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from segment_api.http.app import create_app, wire
from segment_api.settings import Settings
from segment_runtime.auth import Access, Scope

SETTINGS = {
    "KAFKA_BOOTSTRAP": "127.0.0.1:1",
    "JWT_SECRET": "api-test-secret-long-enough-for-hs256",  # the conftest token()'s
    "PUSHER_APP_ID": "1",
    "PUSHER_KEY": "key",
    "PUSHER_SECRET": "pusher-test-secret",
    "PUSHER_HOST": "soketi.internal",
    "PUSHER_PORT": 6001,
    "BIGQUERY_PROJECT": "proj",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    build = tmp_path / "dist"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text("<!doctype html><div id=app></div>")
    (build / "assets" / "index-abc123.js").write_text("console.log('app')")
    (tmp_path / "secret.txt").write_text("outside the build")
    return build


async def _client(db, database_url, warehouse, **extra: object):
    settings = Settings.model_validate({**SETTINGS, "DATABASE_URL": database_url, **extra})
    app = create_app(settings)
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    wire(app, settings, db, warehouse, redis)
    app.state.limiter = None
    return redis, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


@pytest.fixture
async def console(db, database_url, warehouse, dist):
    redis, client = await _client(db, database_url, warehouse, CONSOLE_DIST=str(dist))
    async with client:
        yield client
    await redis.aclose()


@pytest.mark.parametrize("path", ["/console/", "/console/segments/42", "/console/sign-in"])
async def test_every_screen_path_answers_the_app(console, path):
    answer = await console.get(path)
    assert answer.status_code == 200
    assert "<div id=app>" in answer.text
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-cache"


async def test_bare_console_redirects_to_the_app(console):
    answer = await console.get("/console")
    assert answer.status_code == 308 and answer.headers["location"] == "/console/"


async def test_assets_are_served_by_name_and_kept_forever(console):
    answer = await console.get("/console/assets/index-abc123.js")
    assert answer.status_code == 200 and answer.text == "console.log('app')"
    assert "immutable" in answer.headers["cache-control"]
    missing = await console.get("/console/assets/index-gone.js")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "path", ["/console/%2e%2e/secret.txt", "/console/assets/%2e%2e/%2e%2e/secret.txt"]
)
async def test_nothing_outside_the_build_is_served(console, path):
    answer = await console.get(path)
    assert "outside the build" not in answer.text


async def test_an_unbuilt_console_says_how_to_build_it(db, database_url, warehouse, tmp_path):
    redis, client = await _client(db, database_url, warehouse, CONSOLE_DIST=str(tmp_path / "x"))
    async with client:
        answer = await client.get("/console/")
    await redis.aclose()
    assert answer.status_code == 503
    assert answer.json()["code"] == "console_unavailable"
    assert "deploy/install.sh" in answer.json()["detail"]


async def test_the_console_is_not_part_of_the_api_document(console):
    paths = (await console.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith("/console")]


async def test_the_account_names_the_callers_permission_keys(client, token):
    limited = {Scope.VIEW: Access.ALL, Scope.ADD: Access.DISABLED, Scope.MANAGE: Access.OWNED}
    mine = (await client.get("/v1/account", headers=token(user="ana", permissions=limited))).json()
    assert mine["user_id"] == "ana"
    assert mine["permissions"] == {
        "customers_segment_view": "all",
        "customers_segment_add": "disabled",
        "customers_segment_manage": "owned",
        "customers_segment_archived": "disabled",
        "customers_view": "all",  # no claim: all, as the gateway treats it
        "platform_operator": "disabled",
    }


async def test_the_realtime_channel_says_where_pusher_is(client, token):
    answer = (await client.get("/v1/realtime/channel", headers=token())).json()
    assert answer["pusher"] == {"key": "key", "host": "127.0.0.1", "port": 1, "tls": False}


async def test_browsers_may_be_sent_to_another_pusher_address(db, database_url, warehouse, token):
    redis, client = await _client(
        db, database_url, warehouse, PUSHER_BROWSER_HOST="push.example.com", PUSHER_BROWSER_PORT=443
    )
    async with client:
        answer = (await client.get("/v1/realtime/channel", headers=token())).json()
    await redis.aclose()
    assert (answer["pusher"]["host"], answer["pusher"]["port"]) == ("push.example.com", 443)
