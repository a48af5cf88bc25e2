from __future__ import annotations

from pydantic import Field

from segment_runtime.settings import BigQuerySettings, KafkaSettings, PostgresSettings


class Settings(PostgresSettings, KafkaSettings, BigQuerySettings):
    consumer_group: str = Field("compiler", alias="COMPILER_GROUP")
