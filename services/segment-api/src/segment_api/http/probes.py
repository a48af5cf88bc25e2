"""The gateway's probes: /health (alive; Redis reported), /ready (Postgres and the broker
answer) and /metrics (Prometheus)."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker

from segment_api.http.schemas import HealthOut, ReadyOut
from segment_api.shared.cache import Cache
from segment_runtime import probes as readiness
from segment_runtime.metrics import exposition


def install(app: FastAPI, broker: KafkaBroker) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, media_type = exposition()
        return Response(body, media_type=media_type)

    @app.get("/health", tags=["health"])
    async def health(request: Request) -> HealthOut:
        """The gateway answers; with Redis down, answers are uncached rather than refused."""
        cache: Cache | None = getattr(request.app.state, "cache", None)
        redis_up = await cache.ping() if cache is not None else False
        return HealthOut(status="ok", cache="up" if redis_up else "down (answering uncached)")

    @app.get(
        "/ready",
        tags=["health"],
        response_model=ReadyOut,
        responses={503: {"model": ReadyOut, "description": "a dependency is down"}},
    )
    async def ready(request: Request) -> JSONResponse:
        """Ready to serve: Postgres and the broker (the outbox publishes there) answer.
        Redis is reported, not required: without it answers are uncached."""
        checks = {
            "postgres": await readiness.postgres(lambda: request.app.state.pool),
            "kafka": await readiness.kafka(broker),
        }
        cache: Cache | None = getattr(request.app.state, "cache", None)
        checks["redis"] = "up" if cache is not None and await cache.ping() else "down"
        ok = checks["postgres"] == "up" and checks["kafka"] == "up"
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503
        )
