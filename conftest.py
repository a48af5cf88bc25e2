"""Fixtures every package's tests share: a real, throwaway, migrated Postgres database.

Postgres is the machine's own on 127.0.0.1:5432 (or TEST_POSTGRES_URL); with a
Docker engine present, a testcontainers Postgres is used instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from uuid import UUID, uuid4

import pytest

# The top-level folder `contracts/` has the same name as the package it holds;
# importing the package first stops pytest from standing in an empty module for it.
import contracts  # noqa: F401
from devstack.docker import docker_available
from segment_runtime.db import Pool, create_pool

_TABLES = (
    "builds",
    "segment_build_state",
    "jobs",
    "refresh_runs",
    "processed_messages",
    "outbox",
    "build_requests",
    "segment_embeddings",
    "segments",
    "recipient_lists",
    "accounts",
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A server URL ending in the `postgres` database."""
    if os.environ.get("TEST_POSTGRES_URL"):
        yield os.environ["TEST_POSTGRES_URL"]
    elif docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as pg:
            yield pg.get_connection_url()
    else:
        yield "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def database_url(postgres_server: str) -> Iterator[str]:
    from devstack.database import scratch_database

    with scratch_database(postgres_server, "segp_test") as url:
        yield url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[Pool]:
    p = await create_pool(database_url)
    yield p
    await p.close()


@pytest.fixture
async def db(pool: Pool) -> Pool:
    """The pool, with every table emptied before the test."""
    async with pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {', '.join(_TABLES)} CASCADE")
    return pool


@pytest.fixture
async def account(db: Pool) -> UUID:
    """A fresh account row (UTC) in the emptied database."""
    account_id = uuid4()
    async with db.acquire() as conn:
        await conn.execute("INSERT INTO accounts (id, name) VALUES ($1, 'test')", account_id)
    return account_id
