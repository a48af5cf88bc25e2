"""Bootstrap: the job monitor's one way to start, which tests call with their own parts."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker

from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.topics import JOB_CANCEL_REQUESTED, JOB_SUBMITTED
from job_monitor.adapters import BigQueryInspector
from job_monitor.announcing import Announcer
from job_monitor.ports import JobInspector
from job_monitor.settings import Settings
from job_monitor.tracking import JobTracker
from segment_runtime.bigquery import make_client
from segment_runtime.bootstrap import Parts, Service, Wiring
from segment_runtime.logs import configure_logging

NAME = "job-monitor"


def bootstrap(
    settings: Settings,
    *,
    broker: KafkaBroker | None = None,
    warehouse: JobInspector | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Service:
    """The job monitor: follows each submitted job to its end, and announces who
    entered and left."""

    def wire(parts: Parts) -> Wiring:
        inspector = warehouse or BigQueryInspector(
            make_client(settings, connections=settings.concurrency + 4), settings.concurrency
        )
        tracker = JobTracker(
            parts.db,
            inspector,
            timeout_s=settings.job_timeout_s,
            max_interval_s=settings.poll_max_interval_s,
            long_poll_s=settings.long_poll_s,
            concurrency=settings.concurrency,
            error_budget=settings.poll_error_budget,
            lease_margin_s=settings.lease_margin_s,
            clock=parts.clock,
        )
        announcer = Announcer(parts.db, inspector, tracker.owed)
        return Wiring(
            handlers={
                JOB_SUBMITTED: tracker.on_job_submitted,
                JOB_CANCEL_REQUESTED: tracker.on_cancel_job,
            },
            loops={"job-tracker": tracker.run, "membership-announcer": announcer.run},
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
