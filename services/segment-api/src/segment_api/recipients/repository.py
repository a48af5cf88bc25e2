"""SQL of the recipient lists (the gateway is their one writer)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from segment_runtime.db import Connection

_COLUMNS = "id, segment_id, channel, recipients, table_name, created_by, created_at"


async def insert(
    conn: Connection,
    *,
    list_id: UUID,
    account_id: UUID,
    segment_id: UUID,
    channel: str,
    recipients: int,
    table_name: str,
    created_by: str,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO recipient_lists (id, account_id, segment_id, channel, recipients,"  # noqa: S608
        f" table_name, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}",
        list_id,
        account_id,
        segment_id,
        channel,
        recipients,
        table_name,
        created_by,
    )
    assert row is not None
    return dict(row)


async def get(conn: Connection, account_id: UUID, list_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM recipient_lists WHERE account_id = $1 AND id = $2",  # noqa: S608
        account_id,
        list_id,
    )
    return dict(row) if row else None
