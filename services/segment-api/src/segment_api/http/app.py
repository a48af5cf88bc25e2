"""Bootstrap: wires the gateway's process (HTTP, Postgres, outbox relay to Kafka)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pusher
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis.asyncio import Redis

from contracts.clock import SYSTEM_CLOCK, Clock
from segment_api.accounts import routes as accounts
from segment_api.accounts.use_cases import Accounts
from segment_api.as_code import routes as as_code
from segment_api.as_code.use_cases import SegmentsAsCode
from segment_api.builds import changes_routes as changes
from segment_api.builds import routes as builds
from segment_api.builds.changes import MembershipChanges
from segment_api.builds.history import BuildHistory
from segment_api.explain import routes as explain
from segment_api.explain.use_cases import Explanations
from segment_api.http import console, database_blips, docs, openapi, probes, problems, realtime
from segment_api.http import session_routes as session
from segment_api.http.database_blips import RetryReadsOnce
from segment_api.http.ratelimit import RateLimiter
from segment_api.http.request_context import CorrelationMiddleware
from segment_api.insights.use_cases import Insights
from segment_api.overlap import routes as overlap
from segment_api.overlap.use_cases import Overlaps
from segment_api.palette import customer_routes as customers
from segment_api.palette import routes as objects
from segment_api.palette.use_cases import Palette
from segment_api.recipients import routes as recipients
from segment_api.recipients.use_cases import Recipients
from segment_api.reports import routes as reports
from segment_api.reports.use_cases import Reports
from segment_api.segments import routes as segments
from segment_api.segments.reads import SegmentReads
from segment_api.segments.use_cases import SegmentService
from segment_api.settings import Settings
from segment_api.shared.cache import Cache
from segment_api.shared.ports import Warehouse
from segment_api.shared.warehouse import BigQueryWarehouse
from segment_api.shared.warehouse_reads import WarehouseReads
from segment_runtime.auth import TokenVerifier
from segment_runtime.bigquery import make_client
from segment_runtime.bootstrap import Parts, Service, Wiring
from segment_runtime.db import Pool
from segment_runtime.kafka import make_broker
from segment_runtime.logs import configure_logging


def wire(
    app: FastAPI,
    settings: Settings,
    pool: Pool,
    warehouse: Warehouse,
    redis: Redis,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """The gateway's use cases over their adapters: the one bootstrap, also what tests call
    with their own pool and a fake warehouse."""
    cache = Cache(redis, settings.redis_prefix)
    app.state.cache = cache
    app.state.limiter = RateLimiter(
        redis, settings.redis_prefix, settings.rate_limit_per_minute, clock
    )
    app.state.segments = SegmentService(pool, warehouse, cache, clock)
    app.state.segment_reads = SegmentReads(pool, warehouse, cache, clock)
    reads = WarehouseReads(pool, warehouse, budget_s=settings.preview_budget_s, clock=clock)
    app.state.insights = Insights(pool, reads, cache)
    app.state.explanations = Explanations(pool, reads)
    app.state.overlaps = Overlaps(pool, reads)
    app.state.as_code = SegmentsAsCode(pool, reads, app.state.segments)
    app.state.palette = Palette(pool, warehouse, cache, budget_s=settings.preview_budget_s)
    app.state.reports = Reports(pool, warehouse)
    app.state.builds = BuildHistory(pool)
    app.state.changes = MembershipChanges(pool, reads)
    app.state.recipients = Recipients(pool, reads)
    app.state.accounts = Accounts(pool)
    app.state.pool = pool


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, "segment-api")
    broker = make_broker(settings.kafka_bootstrap, "segment-api")

    redis = Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)

    def wire_parts(parts: Parts) -> Wiring:
        warehouse = BigQueryWarehouse(make_client(settings), settings.table_write)
        wire(app, settings, parts.db, warehouse, redis, clock=parts.clock)
        return Wiring(handlers={})  # the gateway consumes nothing: it tells, through its outbox

    # The same start-up as every service: topics, pool, outbox relay, watches.
    service = Service(
        "segment-api",
        wire_parts,
        group="segment-api",
        bootstrap_servers=settings.kafka_bootstrap,
        database_url=settings.database_url,
        broker=broker,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await broker.connect()
        await service.start()
        # What start-up built (routes, schemas, the catalog) lives as long as the process:
        # kept out of the collector's full passes, which otherwise walk it again and again
        # and stall every request in flight meanwhile (the tail of the read latency).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await service.stop()
            await redis.aclose()
            await broker.stop()

    app = FastAPI(
        title="Segment platform API",
        version="1.0.0",
        description="Rule-based segments: define, preview, build and follow them.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # operationIds are the route functions' names (create_segment, preview_segment…):
        # what a client generator turns into method names.
        generate_unique_id_function=lambda route: route.name,
        # Metrics are Prometheus's and logs structlog's here; FastAPI's native OpenTelemetry
        # would only ask, on every request, whether a provider was configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    app.state.pusher = pusher.Pusher(
        app_id=settings.pusher_app_id,
        key=settings.pusher_key,
        secret=settings.pusher_secret.get_secret_value(),
        host=settings.pusher_host,
        port=settings.pusher_port,
        ssl=settings.pusher_ssl,
    )
    problems.install(app)
    database_blips.install(app)
    app.include_router(as_code.router)
    app.include_router(explain.router)
    app.include_router(overlap.router)
    app.include_router(segments.router)
    app.include_router(realtime.router)
    app.include_router(objects.router)
    app.include_router(reports.router)
    app.include_router(builds.router)
    app.include_router(changes.router)
    app.include_router(customers.router)
    app.include_router(recipients.router)
    app.include_router(accounts.router)
    app.include_router(session.router)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
            max_age=600,
        )
    # Innermost: a read that met a dropped database connection is tried once more.
    app.add_middleware(RetryReadsOnce)
    app.add_middleware(CorrelationMiddleware)

    probes.install(app, broker)

    openapi.install(app)
    docs.install(app, settings.api_docs_assets)
    console.install(app, settings.console_dist)

    return app
