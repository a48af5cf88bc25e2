"""Bootstrap: wires the job monitor's process together."""

from __future__ import annotations

from faststream import FastStream

from contracts.messages import JobSubmitted
from contracts.topics import JOB_SUBMITTED
from job_monitor.adapters import BigQueryInspector
from job_monitor.settings import Settings
from job_monitor.tracking import JobTracker
from segment_runtime.bigquery import make_client
from segment_runtime.kafka import make_broker, subscribe
from segment_runtime.lifecycle import Resources, Slot, open_resources
from segment_runtime.logs import configure_logging


def create_app(settings: Settings | None = None) -> FastStream:
    settings = settings or Settings()
    configure_logging(settings.log_level, "job-monitor")
    broker = make_broker(settings.kafka_bootstrap, "job-monitor")
    app = FastStream(broker)
    tracker: Slot[JobTracker] = Slot()
    resources: Slot[Resources] = Slot()

    @subscribe(broker, JOB_SUBMITTED, settings.consumer_group)
    async def on_job_submitted(event: JobSubmitted) -> None:
        await tracker.get().on_job_submitted(event)

    @app.on_startup
    async def start() -> None:
        res = await open_resources(settings.database_url, settings.kafka_bootstrap, broker)
        resources.set(res)
        tracker.set(
            JobTracker(
                res.pool,
                BigQueryInspector(make_client(settings)),
                timeout_s=settings.job_timeout_s,
                max_interval_s=settings.poll_max_interval_s,
            )
        )
        res.spawn(tracker.get().run())

    @app.on_shutdown
    async def stop() -> None:
        await resources.get().close()

    return app
