"""A dropped database connection is a 503 with Retry-After, never a 500; a read is first
tried once more on a fresh connection, a write is not."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI

from segment_api.http import database_blips, problems


def app_with(failures: int) -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    problems.install(app)
    database_blips.install(app)
    app.add_middleware(database_blips.RetryReadsOnce)
    calls: list[str] = []
    left = [failures]

    async def answer(method: str) -> dict[str, str]:
        calls.append(method)
        if left[0]:
            left[0] -= 1
            raise asyncpg.exceptions.AdminShutdownError(
                "terminating connection due to administrator command"
            )
        return {"ok": method}

    @app.get("/read")
    async def read() -> dict[str, str]:
        return await answer("GET")

    @app.post("/write")
    async def write() -> dict[str, str]:
        return await answer("POST")

    return app, calls


async def call(app: FastAPI, method: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    ) as http:
        return await http.request(method, path)


async def test_a_read_that_met_a_dropped_connection_is_tried_once_more():
    app, calls = app_with(failures=1)
    response = await call(app, "GET", "/read")
    assert (response.status_code, response.json()) == (200, {"ok": "GET"})
    assert calls == ["GET", "GET"]
    assert "x-segp-retryable" not in response.headers


async def test_a_read_that_fails_twice_is_a_503_with_retry_after():
    app, calls = app_with(failures=2)
    response = await call(app, "GET", "/read")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "database_unavailable"
    assert calls == ["GET", "GET"]  # once more, not for ever
    assert "x-segp-retryable" not in response.headers


class Pool:
    def __init__(self) -> None:
        self.expired = 0

    async def expire_connections(self) -> None:
        self.expired += 1


async def test_a_dropped_connection_expires_the_pools_other_connections():
    app, _ = app_with(failures=1)
    app.state.pool = pool = Pool()
    assert (await call(app, "POST", "/write")).status_code == 503
    assert pool.expired == 1  # the next requests get fresh connections
    assert (await call(app, "POST", "/write")).status_code == 200
    assert pool.expired == 1


async def test_a_write_is_answered_503_and_not_tried_again():
    app, calls = app_with(failures=1)
    response = await call(app, "POST", "/write")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert calls == ["POST"]
