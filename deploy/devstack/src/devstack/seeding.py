"""Seeds the demo account: its Postgres row and its warehouse tables."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import asyncpg
from contracts.catalog import CUSTOMER
from contracts.warehouse import dataset_id
from google.api_core.exceptions import NotFound
from google.cloud import bigquery

from devstack import demo_data
from devstack.warehouse import create_object_table, load_rows


async def ensure_account(database_url: str, account_id: UUID, name: str, time_zone: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO accounts (id, name, time_zone) VALUES ($1, $2, $3)"
            " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone",
            account_id,
            name,
            time_zone,
        )
    finally:
        await conn.close()


def customers_loaded(client: bigquery.Client, account_id: UUID) -> int:
    try:
        table = client.get_table(f"{client.project}.{dataset_id(account_id)}.{CUSTOMER.table}")
    except NotFound:
        return 0
    return int(table.num_rows or 0)


def seed_customers(
    client: bigquery.Client,
    account_id: UUID,
    count: int,
    *,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> int:
    table_id = create_object_table(client, account_id, CUSTOMER)
    return load_rows(client, table_id, demo_data.customers(count, seed=seed), progress=progress)
