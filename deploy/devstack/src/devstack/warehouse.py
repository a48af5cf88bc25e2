"""Creates an account's dataset and object tables (schema from the catalog) and
loads rows into them."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any
from uuid import UUID

from google.cloud import bigquery

from contracts.catalog import ObjectType
from contracts.warehouse import dataset_id

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
        bigquery.SchemaField(f.column, f.column_type, mode="REPEATED" if f.repeated else "NULLABLE")
        for f in obj.fields
    ]


def create_object_table(client: bigquery.Client, account_id: UUID, obj: ObjectType) -> str:
    dataset = f"{client.project}.{dataset_id(account_id)}"
    client.create_dataset(dataset, exists_ok=True)
    table_id = f"{dataset}.{obj.table}"
    client.delete_table(table_id, not_found_ok=True)
    table = bigquery.Table(table_id, schema=schema(obj))
    if obj.time_field:
        # Event-like tables are partitioned by their date: windows prune partitions.
        table.time_partitioning = bigquery.TimePartitioning(field=obj.time_field)
    client.create_table(table)
    return table_id


def load_rows(
    client: bigquery.Client,
    table_id: str,
    rows: Iterable[dict[str, Any]],
    *,
    batch: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Load jobs of newline-delimited JSON (much faster than streaming inserts)."""
    loaded = 0
    chunk: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal loaded
        if not chunk:
            return
        data = BytesIO("\n".join(json.dumps(r) for r in chunk).encode())
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition="WRITE_APPEND",
        )
        client.load_table_from_file(data, table_id, job_config=config).result()
        loaded += len(chunk)
        if progress:
            progress(len(chunk))
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            flush()
    flush()
    return loaded


@contextlib.contextmanager
def scratch_emulator() -> Iterator[bigquery.Client]:
    """A BigQuery emulator of its own, in memory, on free loopback ports, for a benchmark
    run; stopped when the block ends."""
    from devstack import processes  # noqa: PLC0415
    from devstack.config import StackConfig  # noqa: PLC0415
    from segment_runtime.bigquery import make_client  # noqa: PLC0415
    from segment_runtime.settings import BigQuerySettings  # noqa: PLC0415

    ensure_spatial_extension()
    with tempfile.TemporaryDirectory() as tmp:
        ports = []
        for _ in range(2):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                ports.append(s.getsockname()[1])
        cfg = StackConfig(state_dir=Path(tmp), bigquery_port=ports[0], bigquery_grpc_port=ports[1])
        proc = processes.emulator(cfg, persistent=False)
        emulator = subprocess.Popen(  # noqa: S603 - argv built from our own configuration
            proc.argv, env=proc.full_env(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        try:
            processes.wait_for_port(cfg.bigquery_port)
            yield make_client(
                BigQuerySettings.model_validate(
                    {
                        "BIGQUERY_PROJECT": cfg.bigquery_project,
                        "BIGQUERY_ENDPOINT": cfg.bigquery_endpoint,
                    }
                )
            )
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)
