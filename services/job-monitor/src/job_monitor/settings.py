from __future__ import annotations

from pydantic import Field

from segment_runtime.settings import BigQuerySettings, KafkaSettings, PostgresSettings


class Settings(PostgresSettings, KafkaSettings, BigQuerySettings):
    consumer_group: str = Field("job-monitor", alias="JOB_MONITOR_GROUP")
    host: str = Field("127.0.0.1", alias="JOB_MONITOR_HOST")
    port: int = Field(8403, alias="JOB_MONITOR_PORT", description="/health, /ready and /metrics.")
    job_timeout_s: float = Field(
        1800.0,
        gt=0,
        alias="JOB_TIMEOUT_S",
        description="Cancel a job still running after this long.",
    )
    poll_max_interval_s: float = Field(30.0, gt=0, alias="JOB_POLL_MAX_INTERVAL_S")
    long_poll_s: float = Field(
        5.0,
        ge=0,
        alias="JOB_LONG_POLL_S",
        description="How long one call waits for a running job to end (0: plain polling).",
    )
    concurrency: int = Field(
        64,
        ge=1,
        alias="JOB_MONITOR_CONCURRENCY",
        description="Jobs followed at once (each long-poll holds a thread and a connection):"
        " a refresh layer's jobs all end at once, and each end is seen only if followed.",
    )
    lease_margin_s: float = Field(
        30.0,
        gt=0,
        alias="JOB_LEASE_MARGIN_S",
        description="A check's lease beyond its long-poll (a killed monitor's jobs wait this).",
    )
    poll_error_budget: int = Field(
        5,
        ge=1,
        alias="JOB_POLL_ERROR_BUDGET",
        description="Failed checks of one job in a row before its build fails with the error.",
    )
