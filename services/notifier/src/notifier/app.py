"""Bootstrap: the notifier's Kafka consumers and its websocket endpoint in one process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, WebSocket, WebSocketDisconnect, status
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.topics import BUILD_CHANGED, SEGMENT_CHANGED
from notifier.adapters import CacheGeneration, PusherChannel, RedisFanout, RedisSeen
from notifier.notifications import Notifier
from notifier.ports import Channel, SeenMessages
from notifier.settings import Settings
from notifier.websockets import Hub
from segment_runtime import probes
from segment_runtime.auth import Access, InvalidTokenError, Scope, TokenVerifier
from segment_runtime.bootstrap import Parts, Service, Wiring
from segment_runtime.logs import configure_logging
from segment_runtime.metrics import exposition

NAME = "notifier"


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


@dataclass
class PushSide:
    """The notifier's push side, shared by its consumers and its websocket endpoint."""

    redis: Redis
    generation: CacheGeneration
    fanout: RedisFanout
    hub: Hub


def push_side(settings: Settings, redis: Redis | None = None) -> PushSide:
    redis = redis or Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    generation = CacheGeneration(redis, settings.redis_prefix)
    fanout = RedisFanout(redis, settings.redis_prefix)
    hub = Hub(redis, settings.redis_prefix, on_connect=_settled(generation, fanout))
    fanout.subscribed = lambda: hub.connected
    return PushSide(redis, generation, fanout, hub)


def bootstrap(
    settings: Settings,
    pushes: PushSide,
    *,
    broker: KafkaBroker | None = None,
    channel: Channel | None = None,
    seen: SeenMessages | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Service:
    """The notifier's consumers: each status or metadata fact becomes a push on Pusher
    (`channel`), on the websockets, and a cache generation bump."""

    def wire(parts: Parts) -> Wiring:
        del parts  # the notifier keeps nothing in Postgres
        notifier = Notifier(
            [channel or PusherChannel(settings), pushes.fanout, pushes.generation],
            seen or RedisSeen(pushes.redis, settings.redis_prefix, settings.dedup_ttl_s),
        )
        return Wiring(
            handlers={
                BUILD_CHANGED: notifier.on_build_changed,
                SEGMENT_CHANGED: notifier.on_segment_changed,
            },
            # Redis is not awaited: without it the notifier still pushes on Pusher.
            loops={"websocket-fanout": pushes.hub.run},
        )

    return Service(
        NAME,
        wire,
        group=settings.consumer_group,
        bootstrap_servers=settings.kafka_bootstrap,
        database_url=None,
        broker=broker,
        clock=clock,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, NAME)
    pushes = push_side(settings)
    service = bootstrap(settings, pushes)
    hub = pushes.hub
    verifier = TokenVerifier(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await service.start()
        await service.broker.start()
        try:
            yield
        finally:
            await service.broker.stop()
            await service.stop()
            await pushes.redis.aclose()

    app = FastAPI(title="segment notifier", lifespan=lifespan)

    _probes(app, hub, pushes.generation, pushes.fanout, service.broker)

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
