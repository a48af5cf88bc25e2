from __future__ import annotations

from pydantic import Field

from segment_runtime.settings import BigQuerySettings, KafkaSettings, PostgresSettings


class Settings(PostgresSettings, KafkaSettings, BigQuerySettings):
    consumer_group: str = Field("job-monitor", alias="JOB_MONITOR_GROUP")
    job_timeout_s: float = Field(
        1800.0,
        gt=0,
        alias="JOB_TIMEOUT_S",
        description="Cancel a job still running after this long.",
    )
    poll_max_interval_s: float = Field(30.0, gt=0, alias="JOB_POLL_MAX_INTERVAL_S")
