"""Seeds a demo account: its Postgres rows (account, custom fields) and every
warehouse table of the catalog."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from google.api_core.exceptions import NotFound
from google.cloud import bigquery

from contracts.catalog import CUSTOMER, Catalog, FieldDef, base_catalog
from contracts.warehouse import dataset_id
from devstack.demo_data import DEMO_CUSTOM_FIELDS, Scale, warehouse
from devstack.warehouse import create_object_table, load_rows


def demo_catalog() -> Catalog:
    return base_catalog().with_custom_fields({CUSTOMER.name: DEMO_CUSTOM_FIELDS})


async def ensure_account(
    database_url: str,
    account_id: UUID,
    name: str,
    time_zone: str,
    custom_fields: tuple[FieldDef, ...] = DEMO_CUSTOM_FIELDS,
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO accounts (id, name, time_zone) VALUES ($1, $2, $3) ON CONFLICT (id)"
                " DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone",
                account_id,
                name,
                time_zone,
            )
            for fd in custom_fields:
                await conn.execute(
                    "INSERT INTO custom_fields (account_id, object_type, name, field_type, label,"
                    " options) VALUES ($1, 'customer', $2, $3, $4, $5::jsonb)"
                    " ON CONFLICT DO NOTHING",
                    account_id,
                    fd.name,
                    fd.type.value,
                    fd.label,
                    json.dumps(list(fd.options)),
                )
    finally:
        await conn.close()


def customers_loaded(client: bigquery.Client, account_id: UUID) -> int:
    try:
        table = client.get_table(f"{client.project}.{dataset_id(account_id)}.{CUSTOMER.table}")
    except NotFound:
        return 0
    return int(table.num_rows or 0)


def total_rows(catalog: Catalog, scale: Scale) -> int:
    return sum(scale.rows(name) for name in catalog.objects)


def seed_warehouse(
    client: bigquery.Client,
    account_id: UUID,
    customers: int,
    *,
    catalog: Catalog | None = None,
    seed: int = 7,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
    keep_rows: bool = True,
) -> dict[str, list[dict[str, Any]]]:
    """Creates and fills every object table; returns the rows by table (tests use them;
    `keep_rows=False` returns none, for scales whose rows would not fit in memory)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for obj, rows in warehouse(catalog or demo_catalog(), Scale(customers), seed=seed, today=today):
        table_id = create_object_table(client, account_id, obj)
        load_rows(client, table_id, rows, progress=progress)
        if keep_rows:
            tables[obj.table] = rows
    return tables
