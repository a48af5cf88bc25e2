from __future__ import annotations

from pydantic import Field

from segment_runtime.settings import KafkaSettings, PostgresSettings


class Settings(PostgresSettings, KafkaSettings):
    consumer_group: str = Field("scheduler", alias="SCHEDULER_GROUP")
    host: str = Field("127.0.0.1", alias="SCHEDULER_HOST")
    port: int = Field(8404, alias="SCHEDULER_PORT", description="/health, /ready and /metrics.")
    tick_s: float = Field(
        30.0, gt=0, alias="SCHEDULER_TICK_S", description="How often due refreshes are looked for."
    )
    catch_up_s: float = Field(
        3600.0,
        gt=0,
        alias="SCHEDULER_CATCH_UP_S",
        description="A missed tick older than this is skipped, not run.",
    )
    reconcile_s: float = Field(
        10.0, gt=0, alias="RECONCILE_EVERY_S", description="How often stuck builds are looked for."
    )
    dispatch_deadline_s: float = Field(
        60.0,
        gt=0,
        alias="RECONCILE_DISPATCH_S",
        description="A build sent to the compiler with no job after this long is sent again.",
    )
    silent_deadline_s: float = Field(
        30.0,
        gt=0,
        alias="RECONCILE_SILENT_S",
        description="A submitted or running build with no news after this long is sent again, "
        "so that the compiler and job monitor re-state its job (then twice as long each time).",
    )
    change_deadline_s: float = Field(
        30.0,
        gt=0,
        alias="RECONCILE_CHANGE_S",
        description="A segment change no build took up after this long is built (lost message).",
    )
    restart_settle_s: float = Field(
        5.0,
        gt=0,
        alias="RECONCILE_AFTER_RESTART_S",
        description="After the broker came back empty, what was in flight this long is "
        "re-driven at once (the broker lost it), not after the deadlines above.",
    )
    job_deadline_s: float = Field(
        2100.0,
        gt=0,
        alias="RECONCILE_JOB_S",
        description="A build with no outcome after this long fails (job monitor silent).",
    )
    wait_watch_s: float = Field(
        5.0, gt=0, alias="WAIT_WATCH_EVERY_S", description="How often waiting builds are looked at."
    )
    wait_queued_s: float = Field(
        60.0,
        gt=0,
        alias="WAIT_QUEUED_S",
        description="A build queued behind its dependencies this long says which it waits for.",
    )
    wait_slow_factor: float = Field(
        3.0,
        gt=1,
        alias="WAIT_SLOW_FACTOR",
        description="A job running this many times its segment's recent median says so...",
    )
    wait_slow_at_least_s: float = Field(
        30.0,
        ge=0,
        alias="WAIT_SLOW_AT_LEAST_S",
        description="...once it has run at least this long.",
    )
