"""Bootstrap: wires the scheduler's process together."""

from __future__ import annotations

from datetime import timedelta

from faststream.asgi import AsgiFastStream

from contracts.clock import SYSTEM_CLOCK
from contracts.messages import (
    JobCompleted,
    JobStarted,
    JobSubmitted,
    PlanBuilds,
    SegmentChanged,
)
from contracts.topics import (
    CASCADE_REQUESTED,
    JOB_COMPLETED,
    JOB_STARTED,
    JOB_SUBMITTED,
    SEGMENT_CHANGED,
)
from scheduler.builds import BuildOwner
from scheduler.reconciler import Deadlines, Reconciler
from scheduler.schedule import RefreshSchedule
from scheduler.settings import Settings
from scheduler.waiting import Patience, WaitWatch
from segment_runtime.kafka import subscribe
from segment_runtime.lifecycle import Resources, Slot, service_process
from segment_runtime.supervision import every


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    settings = settings or Settings()
    process = service_process(
        "scheduler",
        log_level=settings.log_level,
        bootstrap=settings.kafka_bootstrap,
        database_url=settings.database_url,
    )
    owner: Slot[BuildOwner] = Slot()
    group = settings.consumer_group

    @subscribe(process.broker, SEGMENT_CHANGED, group)
    async def on_segment_changed(event: SegmentChanged) -> None:
        await owner.get().on_segment_changed(event)

    @subscribe(process.broker, CASCADE_REQUESTED, group)
    async def on_plan_builds(event: PlanBuilds) -> None:
        await owner.get().on_plan_builds(event)

    @subscribe(process.broker, JOB_SUBMITTED, group)
    async def on_job_submitted(event: JobSubmitted) -> None:
        await owner.get().on_job_submitted(event)

    @subscribe(process.broker, JOB_STARTED, group)
    async def on_job_started(event: JobStarted) -> None:
        await owner.get().on_job_started(event)

    @subscribe(process.broker, JOB_COMPLETED, group)
    async def on_job_completed(event: JobCompleted) -> None:
        await owner.get().on_job_completed(event)

    def wire(resources: Resources) -> None:
        owner.set(BuildOwner(resources.pool, SYSTEM_CLOCK))
        schedule = RefreshSchedule(
            resources.pool, owner.get(), catch_up=timedelta(seconds=settings.catch_up_s)
        )
        reconciler = Reconciler(
            resources.pool,
            owner.get(),
            Deadlines(
                dispatch_s=settings.dispatch_deadline_s,
                silent_s=settings.silent_deadline_s,
                job_s=settings.job_deadline_s,
                change_s=settings.change_deadline_s,
            ),
        )
        resources.spawn(
            "refresh-schedule",
            lambda: every(settings.tick_s, lambda: schedule.tick(SYSTEM_CLOCK.now())),
        )
        resources.spawn("reconciler", lambda: every(settings.reconcile_s, reconciler.run_once))
        watch = WaitWatch(
            resources.pool,
            owner.get(),
            Patience(
                queued_s=settings.wait_queued_s,
                slow_factor=settings.wait_slow_factor,
                slow_at_least_s=settings.wait_slow_at_least_s,
            ),
        )
        resources.spawn("wait-watch", lambda: every(settings.wait_watch_s, watch.run_once))
        resources.spawn(
            "broker-restart-reconciler",
            lambda: reconciler.after_broker_restart(
                resources.broker_restarted, settings.restart_settle_s
            ),
        )

    process.on_start(wire)
    return process.app
