"""Every request gets a correlation id (the caller's X-Request-ID or traceparent, or a new
one), returned in X-Request-ID, bound to each log line the request writes and carried by
the messages it causes; its latency by route in segp_http_request_seconds; and one log
line saying how it went (reads that succeeded, previews included, at debug level: a
busy list does not flood the log, and a process whose log pipe is full stalls)."""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segment_runtime.correlation import correlated, from_headers
from segment_runtime.metrics import HTTP_SECONDS

log = structlog.get_logger(__name__)
QUIET_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reads sent as POST (their body is the question): as quiet as the GET reads.
QUIET_ROUTES = frozenset({"/v1/segments/preview", "/v1/segments/validate"})


class CorrelationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cid = from_headers(headers)
        status: dict[str, Any] = {"code": 500}
        started = time.perf_counter()

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", str(cid).encode()),
                ]
            await send(message)

        with correlated(cid):
            try:
                await self.app(scope, receive, answer)
            finally:
                elapsed = time.perf_counter() - started
                # The route's template (/v1/segments/{segment_id}), set by the router.
                route = getattr(scope.get("route"), "path", "unmatched")
                HTTP_SECONDS.labels(route, scope["method"], str(status["code"])).observe(elapsed)
                quiet = status["code"] < 400 and (
                    scope["method"] in QUIET_METHODS or route in QUIET_ROUTES
                )
                (log.debug if quiet else log.info)(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status["code"],
                    ms=round(elapsed * 1000, 1),
                )
