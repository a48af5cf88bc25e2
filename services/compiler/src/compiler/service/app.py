"""Bootstrap: the compiler's one way to start, which tests call with their own parts."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker

from compiler.service.adapters import BigQuerySubmitter
from compiler.service.builds import BuildService
from compiler.service.ports import JobSubmitter
from compiler.service.settings import Settings
from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.topics import BUILD_REQUESTED, SEGMENT_CHANGED
from segment_runtime.bigquery import make_client
from segment_runtime.bootstrap import Parts, Service, Wiring
from segment_runtime.logs import configure_logging

NAME = "compiler"


def bootstrap(
    settings: Settings,
    *,
    broker: KafkaBroker | None = None,
    warehouse: JobSubmitter | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Service:
    """The compiler: keeps each StartBuild in its queue, and its submit workers compile
    and send the jobs to the warehouse."""

    def wire(parts: Parts) -> Wiring:
        submitter = warehouse or BigQuerySubmitter(make_client(settings))
        builds = BuildService(parts.db, submitter, parts.clock)
        return Wiring(
            handlers={
                SEGMENT_CHANGED: builds.on_segment_changed,
                BUILD_REQUESTED: builds.on_start_build,
            },
            loops={f"submit-{n}": builds.submit_queued for n in range(settings.submit_workers)},
        )

    return Service(
        NAME,
        wire,
        group=settings.consumer_group,
        bootstrap_servers=settings.kafka_bootstrap,
        database_url=settings.database_url,
        broker=broker,
        clock=clock,
    )


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    settings = settings or Settings()
    configure_logging(settings.log_level, NAME)
    return bootstrap(settings).asgi_app()
