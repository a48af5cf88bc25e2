from __future__ import annotations

from pydantic import Field

from segment_runtime.settings import (
    AuthSettings,
    BigQuerySettings,
    KafkaSettings,
    PostgresSettings,
    PusherSettings,
    RedisSettings,
)


class Settings(
    PostgresSettings, KafkaSettings, AuthSettings, PusherSettings, BigQuerySettings, RedisSettings
):
    host: str = Field("127.0.0.1", alias="API_HOST")
    port: int = Field(8400, alias="API_PORT")
    rate_limit_per_minute: int = Field(
        120,
        ge=1,
        alias="RATE_LIMIT_PER_MINUTE",
        description="Previews, validations and field-value lookups per account a minute.",
    )
    preview_budget_s: float = Field(
        10.0, gt=0, alias="PREVIEW_BUDGET_S", description="Past this, preview answers 504."
    )
