"""Bootstrap: wires the job monitor's process together."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from contracts.messages import JobSubmitted
from contracts.topics import JOB_SUBMITTED
from job_monitor.adapters import BigQueryInspector
from job_monitor.announcing import Announcer
from job_monitor.settings import Settings
from job_monitor.tracking import JobTracker
from segment_runtime.bigquery import make_client
from segment_runtime.kafka import subscribe
from segment_runtime.lifecycle import Resources, Slot, service_process


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    settings = settings or Settings()
    process = service_process(
        "job-monitor",
        log_level=settings.log_level,
        bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url,
    )
    tracker: Slot[JobTracker] = Slot()

    @subscribe(process.broker, JOB_SUBMITTED, settings.consumer_group)
    async def on_job_submitted(event: JobSubmitted) -> None:
        await tracker.get().on_job_submitted(event)

    def wire(resources: Resources) -> None:
        tracker.set(
            JobTracker(
                resources.pool,
                BigQueryInspector(
                    make_client(settings, connections=settings.concurrency + 4),
                    settings.concurrency,
                ),
                timeout_s=settings.job_timeout_s,
                max_interval_s=settings.poll_max_interval_s,
                long_poll_s=settings.long_poll_s,
                concurrency=settings.concurrency,
                error_budget=settings.poll_error_budget,
                lease_margin_s=settings.lease_margin_s,
            )
        )
        resources.spawn("job-tracker", tracker.get().run)
        announcer = Announcer(resources.pool, tracker.get().inspector, tracker.get().owed)
        resources.spawn("membership-announcer", announcer.run)

    process.on_start(wire)
    return process.app
