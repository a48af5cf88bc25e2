"""The local stack's configuration: ports, paths, and secrets kept out of the repo."""

from __future__ import annotations

import json
import secrets
from functools import cached_property
from pathlib import Path
from uuid import UUID

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[4]
DEMO_ACCOUNT_ID = UUID("d0000000-0000-4000-8000-000000000001")
DEMO_TIME_ZONE = "Asia/Jakarta"


class StackConfig(BaseSettings):
    """Every port is configurable (SEGP_*); none collides with Postgres 5432 or Redis 6379."""

    model_config = SettingsConfigDict(env_prefix="SEGP_", extra="ignore")

    state_dir: Path = Field(REPO_ROOT / ".state")
    kafka_port: int = 19092
    bigquery_port: int = 19050
    bigquery_grpc_port: int = 19060
    bigquery_project: str = "segment-demo"
    # The slow/faulty warehouse (devstack.slow_warehouse) in front of the emulator: jobs run
    # in the background for a while and bill bytes, as on BigQuery, so builds are seen
    # `running` and the build history shows bytes; faults can be injected. On by default,
    # with short jobs; SEGP_SLOW_WAREHOUSE=0 talks to the emulator directly.
    slow_warehouse: bool = True
    slow_warehouse_port: int = 19055
    slow_job_s: float = 0.5
    slow_job_jitter_s: float = 1.0
    # BigQuery bills at least 10 MB for a query that reads a table; 0 bills nothing.
    slow_job_bytes: int = 10 * 1024 * 1024
    pusher_port: int = 16001
    pusher_metrics_port: int = 16002
    pusher_cluster_port: int = 16003
    pusher_app_id: str = "1001"
    pusher_key: str = "segment-demo-key"
    api_port: int = 8400
    notifier_port: int = 8401
    compiler_port: int = 8402
    job_monitor_port: int = 8403
    scheduler_port: int = 8404
    database_url: str = "postgresql://postgres@127.0.0.1:5432/segment_platform"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "segp"
    soketi_bin: Path = REPO_ROOT / "deploy" / "soketi" / "node_modules" / ".bin" / "soketi"
    demo_customers: int = 10_000
    # Pages on other origins that may call the API (comma-separated); none by default.
    cors_origins: str = ""

    @cached_property
    def secrets(self) -> dict[str, str]:
        """Generated on first use and kept in the ignored state folder."""
        path = self.state_dir / "secrets.json"
        if path.exists():
            stored: dict[str, str] = json.loads(path.read_text())
            return stored
        self.state_dir.mkdir(parents=True, exist_ok=True)
        values = {
            "jwt_secret": secrets.token_urlsafe(32),
            "pusher_secret": secrets.token_urlsafe(24),
        }
        path.write_text(json.dumps(values))
        path.chmod(0o600)
        return values

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def bigquery_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.bigquery_port}"

    @property
    def services_bigquery_endpoint(self) -> str:
        """What the services call: the slow warehouse when it runs, else the emulator."""
        if self.slow_warehouse:
            return f"http://127.0.0.1:{self.slow_warehouse_port}"
        return self.bigquery_endpoint

    def service_env(self) -> dict[str, str]:
        """The environment every platform service reads (see the README's table)."""
        return {
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "BIGQUERY_PROJECT": self.bigquery_project,
            "BIGQUERY_ENDPOINT": self.services_bigquery_endpoint,
            "REDIS_URL": self.redis_url,
            "REDIS_PREFIX": self.redis_prefix,
            "PUSHER_APP_ID": self.pusher_app_id,
            "PUSHER_KEY": self.pusher_key,
            "PUSHER_SECRET": self.secrets["pusher_secret"],
            "PUSHER_HOST": "127.0.0.1",
            "PUSHER_PORT": str(self.pusher_port),
            "JWT_SECRET": self.secrets["jwt_secret"],
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.api_port),
            "NOTIFIER_HOST": "127.0.0.1",
            "NOTIFIER_PORT": str(self.notifier_port),
            "COMPILER_PORT": str(self.compiler_port),
            "JOB_MONITOR_PORT": str(self.job_monitor_port),
            "SCHEDULER_PORT": str(self.scheduler_port),
            # The emulator does not write a query job's destination table.
            "BUILD_WRITE": "ctas",
            # The local stack speaks plain HTTP on 127.0.0.1.
            "SESSION_COOKIE_SECURE": "false",
            "CORS_ORIGINS": self.cors_origins,
        }
