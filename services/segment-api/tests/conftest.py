from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from uuid import UUID, uuid4

import httpx
import pytest
from segment_api.app import create_app
from segment_api.segments import SegmentService
from segment_api.settings import Settings
from segment_runtime.auth import ALL_ACCESS, Access, Scope, issue_token

JWT_SECRET = "api-test-secret-long-enough-for-hs256"
PUSHER_SECRET = "pusher-test-secret"


@pytest.fixture
async def client(db, database_url) -> AsyncIterator[httpx.AsyncClient]:
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
        }
    )
    app = create_app(settings)
    # No lifespan here: the outbox rows are what these tests look at, not Kafka.
    app.state.segments = SegmentService(db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as c:
        yield c


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
