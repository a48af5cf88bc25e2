"""Bootstrap: the notifier's Kafka consumers and its websocket endpoint in one process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, WebSocket, WebSocketDisconnect, status
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from contracts.messages import BuildChanged, SegmentChanged
from contracts.topics import BUILD_CHANGED, SEGMENT_CHANGED
from notifier.adapters import CacheGeneration, PusherChannel, RedisFanout, RedisSeen
from notifier.notifications import Notifier
from notifier.settings import Settings
from notifier.websockets import Hub
from segment_runtime import probes
from segment_runtime.auth import Access, InvalidTokenError, Scope, TokenVerifier
from segment_runtime.kafka import (
    ensure_topics,
    make_broker,
    subscribe,
    watch_consumers,
    watch_topics,
)
from segment_runtime.logs import configure_logging
from segment_runtime.metrics import exposition
from segment_runtime.supervision import supervise


def _probes(
    app: FastAPI, hub: Hub, generation: CacheGeneration, fanout: RedisFanout, broker: KafkaBroker
) -> None:
    app.state.broker = broker  # what it subscribes to is read by the topic registry's test

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, media_type = exposition()
        return Response(body, media_type=media_type)

    @app.get("/health")
    async def health() -> JSONResponse:
        """503 while the websocket fan-out is down (new sockets would hear nothing);
        Pusher pushes go on meanwhile."""
        body = {
            "status": "ok" if hub.connected else "degraded",
            "websocket_fanout": "up" if hub.connected else f"down: {hub.last_error}",
            "cache_invalidation": "owed" if generation.owed else "current",
            "websocket_pushes_owed": fanout.owed,
        }
        return JSONResponse(body, status_code=200 if hub.connected else 503)

    @app.get("/ready")
    async def ready() -> JSONResponse:
        """Ready to push: the broker answers (Pusher pushes need nothing else)."""
        kafka = await probes.kafka(broker)
        ok = kafka == "up"
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "kafka": kafka}, 200 if ok else 503
        )


def _settled(generation: CacheGeneration, fanout: RedisFanout) -> Callable[[], Awaitable[None]]:
    async def reconnected() -> None:
        """Redis answers again: settle the cache, send the websocket pushes owed."""
        await generation.settle()
        await fanout.flush()

    return reconnected


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, "notifier")
    broker = make_broker(settings.kafka_bootstrap, "notifier")
    redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    generation = CacheGeneration(redis, settings.redis_prefix)
    fanout = RedisFanout(redis, settings.redis_prefix)
    hub = Hub(redis, settings.redis_prefix, on_connect=_settled(generation, fanout))
    fanout.subscribed = lambda: hub.connected
    verifier = TokenVerifier(settings)
    notifier = Notifier(
        [PusherChannel(settings), fanout, generation],
        RedisSeen(redis, settings.redis_prefix, settings.dedup_ttl_s),
    )

    @subscribe(broker, BUILD_CHANGED, settings.consumer_group)
    async def on_build_changed(event: BuildChanged) -> None:
        await notifier.on_build_changed(event)

    @subscribe(broker, SEGMENT_CHANGED, settings.consumer_group)
    async def on_segment_changed(event: SegmentChanged) -> None:
        await notifier.on_segment_changed(event)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap)
        watches = [
            asyncio.create_task(
                supervise("topic-watch", lambda: watch_topics(settings.kafka_bootstrap))
            ),
            asyncio.create_task(supervise("consumer-watch", lambda: watch_consumers(broker))),
        ]
        # Redis is not awaited: without it the notifier still pushes on Pusher.
        hub_task = asyncio.create_task(supervise("websocket-fanout", hub.run))
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()
            for watch in watches:
                watch.cancel()
            hub_task.cancel()
            with suppress(asyncio.CancelledError):
                await hub_task
            await redis.aclose()

    app = FastAPI(title="segment notifier", lifespan=lifespan)

    _probes(app, hub, generation, fanout, broker)

    @app.websocket("/v1/ws")
    async def segment_status(socket: WebSocket, access_token: str) -> None:
        """Status pushes for the token's account. Browsers cannot set headers on a
        websocket, so the bearer token travels as the `access_token` query parameter."""
        try:
            principal = verifier.verify(access_token)
        except InvalidTokenError:
            await socket.close(code=status.WS_1008_POLICY_VIOLATION, reason="invalid token")
            return
        if principal.access(Scope.VIEW) is Access.DISABLED:
            await socket.close(code=status.WS_1008_POLICY_VIOLATION, reason="permission denied")
            return
        await socket.accept()
        account = principal.account_id.hex
        hub.join(account, socket, principal.owner_filter)
        try:
            while True:
                await socket.receive_text()  # clients say nothing; this notices the close
        except WebSocketDisconnect:
            pass
        finally:
            hub.leave(account, socket)

    return app
