"""Creates the platform database if missing and applies migrations with Alembic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
from alembic import command
from alembic.config import Config

from devstack.config import REPO_ROOT


@asynccontextmanager
async def _admin(database_url: str) -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    """A connection to the server's `postgres` database, and the target's quoted name."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        # Identifiers cannot be parameters; the name comes from our own configuration.
        yield conn, '"' + name.replace('"', '""') + '"'
    finally:
        await conn.close()


async def ensure_database(database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    async with _admin(database_url) as (conn, quoted):
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f"CREATE DATABASE {quoted}")


def migrate(database_url: str) -> None:
    config = Config(str(REPO_ROOT / "deploy" / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "deploy" / "migrations"))
    config.set_main_option("prepend_sys_path", str(REPO_ROOT / "deploy" / "migrations"))
    config.set_main_option("path_separator", "os")
    config.set_main_option("sqlalchemy.url", database_url)
    command.upgrade(config, "head")


async def drop_database(database_url: str) -> None:
    async with _admin(database_url) as (conn, quoted):
        await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh, migrated database on the server of `server_url`, dropped afterwards."""
    base, _, _ = server_url.rpartition("/")
    url = f"{base}/{prefix}_{uuid4().hex[:12]}"
    asyncio.run(ensure_database(url))
    migrate(url)
    try:
        yield url
    finally:
        asyncio.run(drop_database(url))
