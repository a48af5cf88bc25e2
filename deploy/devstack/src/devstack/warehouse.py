"""Creates an account's dataset and object tables and loads demo rows into them."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any
from uuid import UUID

from contracts.catalog import ObjectType
from contracts.warehouse import dataset_id
from google.cloud import bigquery

DUCKDB_VERSION = "v1.5.5"


def ensure_spatial_extension() -> Path:
    """The emulator needs DuckDB's spatial extension where DuckDB looks for it."""
    import duckdb_extension_spatial  # noqa: PLC0415 - only the stack needs it

    target = Path.home() / ".duckdb" / "extensions" / DUCKDB_VERSION / "linux_amd64"
    dest = target / "spatial.duckdb_extension"
    if not dest.exists():
        source = (
            Path(duckdb_extension_spatial.__file__).parent
            / "extensions"
            / DUCKDB_VERSION
            / "spatial.duckdb_extension"
        )
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    return dest


def schema(obj: ObjectType) -> list[bigquery.SchemaField]:
    return [bigquery.SchemaField(obj.id_column, "STRING", mode="REQUIRED")] + [
        bigquery.SchemaField(f.column, f.column_type) for f in obj.fields
    ]


def create_object_table(client: bigquery.Client, account_id: UUID, obj: ObjectType) -> str:
    dataset = f"{client.project}.{dataset_id(account_id)}"
    client.create_dataset(dataset, exists_ok=True)
    table_id = f"{dataset}.{obj.table}"
    client.delete_table(table_id, not_found_ok=True)
    client.create_table(bigquery.Table(table_id, schema=schema(obj)))
    return table_id


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def load_rows(
    client: bigquery.Client,
    table_id: str,
    rows: Iterable[dict[str, Any]],
    *,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> int:
    loaded = 0
    for chunk in _batches(rows, batch):
        errors = client.insert_rows_json(table_id, chunk)
        if errors:
            raise RuntimeError(f"loading {table_id} failed: {errors[:3]}")
        loaded += len(chunk)
        if progress:
            progress(len(chunk))
    return loaded
