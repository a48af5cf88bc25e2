"""Bootstrap: wires the scheduler's process together."""

from __future__ import annotations

from datetime import timedelta

from faststream import FastStream

from contracts.messages import CascadeRequested
from contracts.topics import CASCADE_REQUESTED
from scheduler.refresh import RefreshScheduler
from scheduler.settings import Settings
from segment_runtime.kafka import subscribe
from segment_runtime.lifecycle import Resources, Slot, service_process


def create_app(settings: Settings | None = None) -> FastStream:
    settings = settings or Settings()
    process = service_process(
        "scheduler",
        log_level=settings.log_level,
        bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url,
    )
    scheduler: Slot[RefreshScheduler] = Slot()

    @subscribe(process.broker, CASCADE_REQUESTED, settings.consumer_group)
    async def on_cascade_requested(event: CascadeRequested) -> None:
        await scheduler.get().on_cascade_requested(event)

    def wire(resources: Resources) -> None:
        scheduler.set(
            RefreshScheduler(resources.pool, catch_up=timedelta(seconds=settings.catch_up_s))
        )
        resources.spawn(scheduler.get().run(settings.tick_s))

    process.on_start(wire)
    return process.app
