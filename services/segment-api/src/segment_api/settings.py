from __future__ import annotations

import os
from pathlib import Path

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
    workers: int = Field(
        0,
        ge=0,
        le=64,
        alias="API_WORKERS",
        description="Server processes; 0 (the default) is one per core. Caches, rate limits"
        " and sessions live in Redis or the token, so any worker answers any request.",
    )

    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)

    rate_limit_per_minute: int = Field(
        120,
        ge=1,
        alias="RATE_LIMIT_PER_MINUTE",
        description="Previews, validations and field-value lookups per account a minute.",
    )
    preview_budget_s: float = Field(
        10.0, gt=0, alias="PREVIEW_BUDGET_S", description="Past this, preview answers 504."
    )
    cors_origins: str = Field(
        "",
        alias="CORS_ORIGINS",
        description="Comma-separated origins a browser page may call from; none by default.",
    )
    session_cookie_secure: bool = Field(
        True,
        alias="SESSION_COOKIE_SECURE",
        description="Mark the session cookie Secure (HTTPS only); off for the local stack.",
    )
    pusher_browser_host: str | None = Field(
        None,
        alias="PUSHER_BROWSER_HOST",
        description="The Pusher host browsers connect to, if not PUSHER_HOST.",
    )
    pusher_browser_port: int | None = Field(
        None, alias="PUSHER_BROWSER_PORT", description="Its port, if not PUSHER_PORT."
    )
    console_dist: Path = Field(
        Path(__file__).resolve().parents[2] / "console" / "dist",
        alias="CONSOLE_DIST",
        description="The web console's build (deploy/install.sh runs `npm run build`).",
    )
    api_docs_assets: Path = Field(
        Path(__file__).resolve().parents[4] / "deploy" / "apidocs" / "node_modules",
        alias="API_DOCS_ASSETS",
        description="swagger-ui-dist and redoc, installed by deploy/install.sh: no CDN.",
    )

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]
