"""Bootstrap: wires the compiler service's process together."""

from __future__ import annotations

from faststream import FastStream

from compiler.service.adapters import BigQuerySubmitter, SystemClock
from compiler.service.builds import BuildService
from compiler.service.settings import Settings
from contracts.messages import BuildRequested, SegmentChanged
from contracts.topics import BUILD_REQUESTED, SEGMENT_CHANGED
from segment_runtime.bigquery import make_client
from segment_runtime.kafka import make_broker, subscribe
from segment_runtime.lifecycle import Resources, Slot, open_resources
from segment_runtime.logs import configure_logging


def create_app(settings: Settings | None = None) -> FastStream:
    settings = settings or Settings()
    configure_logging(settings.log_level, "compiler")
    broker = make_broker(settings.kafka_bootstrap, "compiler")
    app = FastStream(broker)
    service: Slot[BuildService] = Slot()
    resources: Slot[Resources] = Slot()
    group = settings.consumer_group

    @subscribe(broker, SEGMENT_CHANGED, group)
    async def on_segment_changed(event: SegmentChanged) -> None:
        await service.get().on_segment_changed(event)

    @subscribe(broker, BUILD_REQUESTED, group)
    async def on_build_requested(event: BuildRequested) -> None:
        await service.get().on_build_requested(event)

    @app.on_startup
    async def start() -> None:
        res = await open_resources(settings.database_url, settings.kafka_bootstrap, broker)
        resources.set(res)
        service.set(BuildService(res.pool, BigQuerySubmitter(make_client(settings)), SystemClock()))

    @app.on_shutdown
    async def stop() -> None:
        await resources.get().close()

    return app
