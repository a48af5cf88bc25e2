"""Bootstrap: wires the scheduler's process together."""

from __future__ import annotations

from datetime import timedelta

from faststream import FastStream

from contracts.messages import CascadeRequested
from contracts.topics import CASCADE_REQUESTED
from scheduler.refresh import RefreshScheduler
from scheduler.settings import Settings
from segment_runtime.kafka import make_broker, subscribe
from segment_runtime.lifecycle import Resources, Slot, open_resources
from segment_runtime.logs import configure_logging


def create_app(settings: Settings | None = None) -> FastStream:
    settings = settings or Settings()
    configure_logging(settings.log_level, "scheduler")
    broker = make_broker(settings.kafka_bootstrap, "scheduler")
    app = FastStream(broker)
    scheduler: Slot[RefreshScheduler] = Slot()
    resources: Slot[Resources] = Slot()

    @subscribe(broker, CASCADE_REQUESTED, settings.consumer_group)
    async def on_cascade_requested(event: CascadeRequested) -> None:
        await scheduler.get().on_cascade_requested(event)

    @app.on_startup
    async def start() -> None:
        res = await open_resources(settings.database_url, settings.kafka_bootstrap, broker)
        resources.set(res)
        scheduler.set(RefreshScheduler(res.pool, catch_up=timedelta(seconds=settings.catch_up_s)))
        res.spawn(scheduler.get().run(settings.tick_s))

    @app.on_shutdown
    async def stop() -> None:
        await resources.get().close()

    return app
