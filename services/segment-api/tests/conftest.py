from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from redis.asyncio import Redis

from segment_api.http.app import create_app, wire
from segment_api.settings import Settings
from segment_api.shared.ports import DryRunResult, QueryTimeoutError
from segment_runtime.auth import ALL_ACCESS, Access, Scope, issue_token

JWT_SECRET = "api-test-secret-long-enough-for-hs256"
PUSHER_SECRET = "pusher-test-secret"


class FakeWarehouse:
    """Records dry runs; says no when the SQL mentions a table it was told is missing."""

    def __init__(self) -> None:
        self.dry_runs: list[tuple[str, dict]] = []
        self.missing: str | None = None
        self.queries: list[str] = []
        self.error: Exception | None = None

    def project(self) -> str:
        return "proj"

    async def dry_run(self, sql: str, params: dict) -> DryRunResult:
        self.dry_runs.append((sql, params))
        if self.missing and self.missing in sql:
            return DryRunResult(ok=False, error=f"Not found: Table {self.missing}")
        return DryRunResult(ok=True, bytes_processed=0)

    async def columns(self, table: str) -> list[tuple[str, str, str]]:
        return []  # no custom columns discovered in the warehouse

    async def query(self, sql: str, params: dict, *, timeout_s: float) -> list[dict]:
        self.queries.append(sql)
        raise self.error or QueryTimeoutError(f"no answer within {timeout_s} s")


@pytest.fixture
def warehouse() -> FakeWarehouse:
    return FakeWarehouse()


@asynccontextmanager
async def gateway(
    db, database_url: str, warehouse: FakeWarehouse, redis: Redis
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway wired by its one bootstrap to these parts, as an HTTP client."""
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP": "127.0.0.1:1",
            "JWT_SECRET": JWT_SECRET,
            "PUSHER_APP_ID": "1",
            "PUSHER_KEY": "key",
            "PUSHER_SECRET": PUSHER_SECRET,
            "PUSHER_HOST": "127.0.0.1",
            "PUSHER_PORT": 1,
            "BIGQUERY_PROJECT": "proj",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "REDIS_PREFIX": REDIS_PREFIX,
        }
    )
    app = create_app(settings)
    # No lifespan here: the outbox rows are what these tests look at, not Kafka.
    wire(app, settings.model_copy(update={"preview_budget_s": 0.01}), db, warehouse, redis)
    app.state.limiter = None  # rate limits have their own test
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as c:
        yield c


@pytest.fixture
async def client(db, database_url, warehouse) -> AsyncIterator[httpx.AsyncClient]:
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    async with gateway(db, database_url, warehouse, redis) as c:
        yield c
    await redis.aclose()


@pytest.fixture
def token() -> Callable[..., dict[str, str]]:
    def make(
        account: UUID | None = None,
        user: str = "u1",
        permissions: dict[Scope, Access] | None = None,
    ) -> dict[str, str]:
        t = issue_token(
            JWT_SECRET,
            account_id=account or ACCOUNT,
            user_id=user,
            permissions=ALL_ACCESS if permissions is None else permissions,
        )
        return {"Authorization": f"Bearer {t}"}

    return make


ACCOUNT = uuid4()
REDIS_PREFIX = f"apitest{uuid4().hex[:8]}"


@pytest.fixture
def redis_prefix() -> str:
    return REDIS_PREFIX


@pytest.fixture
def account_id() -> UUID:
    """The account `token()` speaks for unless told otherwise."""
    return ACCOUNT


@pytest.fixture
def gateway_with(db, database_url, warehouse) -> Callable[[Redis], Any]:
    """`async with gateway_with(redis) as client`: the gateway on another Redis client."""
    return lambda redis: gateway(db, database_url, warehouse, redis)
