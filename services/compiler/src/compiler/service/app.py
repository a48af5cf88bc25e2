"""Bootstrap: wires the compiler service's process together."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from compiler.service.adapters import BigQuerySubmitter
from compiler.service.builds import BuildService
from compiler.service.settings import Settings
from contracts.clock import SYSTEM_CLOCK
from contracts.messages import SegmentChanged, StartBuild
from contracts.topics import BUILD_REQUESTED, SEGMENT_CHANGED
from segment_runtime.bigquery import make_client
from segment_runtime.kafka import subscribe
from segment_runtime.lifecycle import Resources, Slot, service_process


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    settings = settings or Settings()
    process = service_process(
        "compiler",
        log_level=settings.log_level,
        bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url,
    )
    service: Slot[BuildService] = Slot()

    @subscribe(process.broker, SEGMENT_CHANGED, settings.consumer_group)
    async def on_segment_changed(event: SegmentChanged) -> None:
        await service.get().on_segment_changed(event)

    @subscribe(process.broker, BUILD_REQUESTED, settings.consumer_group)
    async def on_start_build(event: StartBuild) -> None:
        await service.get().on_start_build(event)

    def wire(resources: Resources) -> None:
        built = BuildService(resources.pool, BigQuerySubmitter(make_client(settings)), SYSTEM_CLOCK)
        service.set(built)
        for n in range(settings.submit_workers):
            resources.spawn(f"submit-{n}", built.submit_queued)

    process.on_start(wire)
    return process.app
