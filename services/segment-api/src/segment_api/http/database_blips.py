"""A database that drops its connections (restarted, terminated, failed over) is a blip,
not a bug: the request is answered 503 `database_unavailable` with `Retry-After`, never an
unhandled 500, and a read (GET, HEAD) is first tried once more, on a fresh connection the
pool makes in place of the dropped one. A write is not tried again here: had its commit
reached the database before the connection died, a second try would apply it twice.

What drops one connection (a restart, a failover, a terminated session) has usually
dropped the pool's idle ones too: the first blip expires them all, so that the requests
after it get fresh connections instead of each finding a dead one in turn."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segment_api.http.problems import Problem
from segment_runtime.db import DROPPED

RETRY_AFTER_S = 1
_RETRYABLE = b"x-segp-retryable"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def install(app: FastAPI) -> None:
    async def dropped(request: Request, exc: Exception) -> JSONResponse:
        pool = getattr(request.app.state, "pool", None)
        if pool is not None:
            await pool.expire_connections()
        problem = Problem(
            status=503,
            code="database_unavailable",
            title="The database is briefly unavailable",
            detail=f"{type(exc).__name__}: try again in {RETRY_AFTER_S} s",
            type="https://segment-platform.dev/problems/database_unavailable",
        )
        return JSONResponse(
            problem.model_dump(mode="json"),
            status_code=503,
            media_type="application/problem+json",
            headers={"Retry-After": str(RETRY_AFTER_S), _RETRYABLE.decode(): "1"},
        )

    for kind in DROPPED:
        app.add_exception_handler(kind, dropped)


class RetryReadsOnce:
    """Runs a read again, once, when its first answer was the dropped-database 503 and
    nothing of it has been sent yet; the marker header never leaves the process."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        retry = scope["method"] in SAFE_METHODS
        held: list[Message] = []

        async def first(message: Message) -> None:
            if message["type"] == "http.response.start":
                if retry and any(k == _RETRYABLE for k, _ in message.get("headers", [])):
                    held.append(message)
                    return
                await send(_unmarked(message))
                return
            if held:
                return  # the held answer's body: dropped with it
            await send(message)

        await self.app(scope, receive, first)
        if held:
            await self.app(scope, receive, lambda m: send(_unmarked(m)))


def _unmarked(message: Message) -> Message:
    if message["type"] != "http.response.start":
        return message
    headers = [(k, v) for k, v in message.get("headers", []) if k != _RETRYABLE]
    return {**message, "headers": headers}
