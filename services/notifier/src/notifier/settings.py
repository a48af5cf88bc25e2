from __future__ import annotations

from pydantic import Field

from segment_runtime.settings import AuthSettings, KafkaSettings, PusherSettings, RedisSettings


class Settings(KafkaSettings, RedisSettings, PusherSettings, AuthSettings):
    consumer_group: str = Field("notifier", alias="NOTIFIER_GROUP")
    host: str = Field("127.0.0.1", alias="NOTIFIER_HOST")
    port: int = Field(8401, alias="NOTIFIER_PORT")
    dedup_ttl_s: int = Field(7 * 24 * 3600, alias="NOTIFIER_DEDUP_TTL_S")
