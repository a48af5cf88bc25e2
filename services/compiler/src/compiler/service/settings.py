from __future__ import annotations

from pydantic import Field

from segment_runtime.settings import BigQuerySettings, KafkaSettings, PostgresSettings


class Settings(PostgresSettings, KafkaSettings, BigQuerySettings):
    consumer_group: str = Field("compiler", alias="COMPILER_GROUP")
    host: str = Field("127.0.0.1", alias="COMPILER_HOST")
    port: int = Field(8402, alias="COMPILER_PORT", description="/health, /ready and /metrics.")
    submit_workers: int = Field(
        6,
        ge=1,
        alias="COMPILER_SUBMIT_WORKERS",
        description="Builds submitted side by side (each holds a Postgres connection).",
    )
