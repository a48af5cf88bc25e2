"""Postgres connection pool with JSON codecs and start-up retries."""

from __future__ import annotations

import json

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from tenacity import retry, stop_after_delay, wait_exponential

Pool = asyncpg.Pool
# What repositories take: a pooled connection or a plain one.
Connection = asyncpg.Connection | PoolConnectionProxy


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


@retry(wait=wait_exponential(multiplier=0.2, max=3), stop=stop_after_delay(60), reraise=True)
async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, name: str | None = None
) -> Pool:
    pool: Pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        # Each service's sessions are named in pg_stat_activity (operators, fault tests);
        # without a name, the DSN's application_name (if any) stands. JIT is off: these
        # are short OLTP statements, and a poor row estimate once had Postgres compile a
        # queue claim for 116 ms, several times a second, to run it in 2 ms.
        server_settings={"jit": "off", **({"application_name": name} if name else {})},
    )
    return pool


# The database went away under a statement (terminated, restarted, unreachable): nothing
# is wrong with the request, and the pool replaces the connection.
DROPPED: tuple[type[Exception], ...] = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.InterfaceError,
    # The protocol state a terminated connection leaves behind ("another operation is in
    # progress"), seen on the statement after pg_terminate_backend.
    asyncpg.InternalClientError,
    ConnectionError,
)
