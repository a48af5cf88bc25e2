"""Bootstrap: the scheduler's one way to start, which tests call with their own parts."""

from __future__ import annotations

from datetime import timedelta

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker

from contracts.clock import SYSTEM_CLOCK, Clock
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
from segment_runtime.bootstrap import Parts, Service, Wiring
from segment_runtime.logs import configure_logging
from segment_runtime.supervision import every

NAME = "scheduler"


def bootstrap(
    settings: Settings, *, broker: KafkaBroker | None = None, clock: Clock = SYSTEM_CLOCK
) -> Service:
    """The scheduler: the build owner behind its five topics, the refresh schedule, the
    reconciler and the wait watch."""

    def wire(parts: Parts) -> Wiring:
        owner = BuildOwner(parts.db, parts.clock)
        schedule = RefreshSchedule(parts.db, owner, catch_up=timedelta(seconds=settings.catch_up_s))
        reconciler = Reconciler(
            parts.db,
            owner,
            Deadlines(
                dispatch_s=settings.dispatch_deadline_s,
                silent_s=settings.silent_deadline_s,
                job_s=settings.job_deadline_s,
                change_s=settings.change_deadline_s,
            ),
        )
        watch = WaitWatch(
            parts.db,
            owner,
            Patience(
                queued_s=settings.wait_queued_s,
                slow_factor=settings.wait_slow_factor,
                slow_at_least_s=settings.wait_slow_at_least_s,
            ),
        )
        return Wiring(
            handlers={
                SEGMENT_CHANGED: owner.on_segment_changed,
                CASCADE_REQUESTED: owner.on_plan_builds,
                JOB_SUBMITTED: owner.on_job_submitted,
                JOB_STARTED: owner.on_job_started,
                JOB_COMPLETED: owner.on_job_completed,
            },
            loops={
                "refresh-schedule": lambda: every(
                    settings.tick_s, lambda: schedule.tick(parts.clock.now())
                ),
                "reconciler": lambda: every(settings.reconcile_s, reconciler.run_once),
                "wait-watch": lambda: every(settings.wait_watch_s, watch.run_once),
                "broker-restart-reconciler": lambda: reconciler.after_broker_restart(
                    parts.broker_restarted, settings.restart_settle_s
                ),
            },
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
