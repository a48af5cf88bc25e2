"""Settings pieces; each service composes its own settings class from these.

Environment variable names are shared across services so that one stack
configuration (see the README's table) drives every process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class BaseServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    log_level: str = Field("INFO", alias="LOG_LEVEL")


class PostgresSettings(BaseServiceSettings):
    database_url: str = Field(alias="DATABASE_URL", description="postgresql://… DSN")


class KafkaSettings(BaseServiceSettings):
    kafka_bootstrap: str = Field(alias="KAFKA_BOOTSTRAP", description="host:port list")


class BigQuerySettings(BaseServiceSettings):
    bigquery_project: str = Field(alias="BIGQUERY_PROJECT")
    # Empty means Google's own endpoint with application default credentials.
    bigquery_endpoint: str = Field("", alias="BIGQUERY_ENDPOINT")
    bigquery_location: str = Field("US", alias="BIGQUERY_LOCATION")
    # BigQuery documents query parameters for query jobs, not for DDL: a table the
    # platform writes (member tables, recipient lists) is a query job's destination
    # (WRITE_TRUNCATE). The emulator ignores a query job's destination, so the local
    # stack writes with CREATE OR REPLACE TABLE ... AS instead.
    table_write: Literal["destination", "ctas"] = Field("destination", alias="BUILD_WRITE")


class RedisSettings(BaseServiceSettings):
    redis_url: str = Field(alias="REDIS_URL")
    redis_prefix: str = Field("segp", alias="REDIS_PREFIX", description="Key namespace")


class PusherSettings(BaseServiceSettings):
    pusher_app_id: str = Field(alias="PUSHER_APP_ID", pattern=r"^\d+$")
    pusher_key: str = Field(alias="PUSHER_KEY")
    pusher_secret: SecretStr = Field(alias="PUSHER_SECRET")
    pusher_host: str = Field(alias="PUSHER_HOST")
    pusher_port: int = Field(alias="PUSHER_PORT")
    pusher_ssl: bool = Field(False, alias="PUSHER_SSL")


class AuthSettings(BaseServiceSettings):
    # HS256 for development; production sets JWT_JWKS_URL and RS256.
    jwt_secret: SecretStr | None = Field(None, alias="JWT_SECRET")
    jwt_jwks_url: str | None = Field(None, alias="JWT_JWKS_URL")
    jwt_audience: str = Field("segment-platform", alias="JWT_AUDIENCE")
    jwt_issuer: str | None = Field(None, alias="JWT_ISSUER")
