from __future__ import annotations

from pydantic import Field

from segment_runtime.settings import KafkaSettings, PostgresSettings


class Settings(PostgresSettings, KafkaSettings):
    consumer_group: str = Field("scheduler", alias="SCHEDULER_GROUP")
    tick_s: float = Field(
        30.0, gt=0, alias="SCHEDULER_TICK_S", description="How often due refreshes are looked for."
    )
    catch_up_s: float = Field(
        3600.0,
        gt=0,
        alias="SCHEDULER_CATCH_UP_S",
        description="A missed tick older than this is skipped, not run.",
    )
