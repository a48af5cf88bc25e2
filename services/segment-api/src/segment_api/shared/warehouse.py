from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Literal

from google.api_core.exceptions import GoogleAPICallError, NotFound
from google.cloud import bigquery

from segment_api.shared.ports import DryRunResult, QueryTimeoutError, WarehouseError
from segment_runtime.bigquery import REQUEST_TIMEOUT_S, query_config, table_missing


class BigQueryWarehouse:
    def __init__(
        self, client: bigquery.Client, write: Literal["destination", "ctas"] = "destination"
    ) -> None:
        self._client = client
        self._write = write

    def project(self) -> str:
        return str(self._client.project)

    async def dry_run(self, sql: str, params: dict[str, Any]) -> DryRunResult:
        config = query_config(params, dry_run=True)

        def _run() -> DryRunResult:
            try:
                job = self._client.query(
                    sql, job_config=config, timeout=REQUEST_TIMEOUT_S, job_retry=None
                )
            except GoogleAPICallError as exc:
                return DryRunResult(ok=False, error=str(getattr(exc, "message", exc))[:2000])
            return DryRunResult(ok=True, bytes_processed=job.total_bytes_processed)

        return await asyncio.to_thread(_run)

    async def columns(self, table: str) -> list[tuple[str, str, str]]:
        try:
            found = await asyncio.to_thread(
                self._client.get_table, table, timeout=REQUEST_TIMEOUT_S
            )
        except NotFound:
            return []
        return [(f.name, f.field_type, f.mode) for f in found.schema]

    async def query(
        self, sql: str, params: dict[str, Any], *, timeout_s: float
    ) -> list[dict[str, Any]]:
        return await _query(self._client, sql, params, timeout_s)

    async def write_table(
        self, sql: str, params: dict[str, Any], table: str, *, timeout_s: float
    ) -> None:
        if self._write == "ctas":  # the emulator does not write a query's destination
            await _query(
                self._client, f"CREATE OR REPLACE TABLE `{table}` AS {sql}", params, timeout_s
            )
            return
        await _query(self._client, sql, params, timeout_s, destination=table)

    async def drop_table(self, table: str) -> None:
        await asyncio.to_thread(
            self._client.delete_table, table, not_found_ok=True, timeout=REQUEST_TIMEOUT_S
        )


def _rows(job: bigquery.QueryJob, timeout_s: float) -> list[dict[str, Any]]:
    try:
        return [dict(r) for r in job.result(timeout=timeout_s)]
    except concurrent.futures.TimeoutError as exc:
        job.cancel()
        raise QueryTimeoutError(f"no answer within {timeout_s:.0f} s") from exc


async def _query(
    client: bigquery.Client,
    sql: str,
    params: dict[str, Any],
    timeout_s: float,
    destination: str | None = None,
) -> list[dict[str, Any]]:
    config = query_config(params)
    if destination is not None:
        config.destination = destination
        config.write_disposition = bigquery.WriteDisposition.WRITE_TRUNCATE

    def _run() -> list[dict[str, Any]]:
        job = client.query(sql, job_config=config, timeout=timeout_s, job_retry=None)
        return _rows(job, timeout_s)

    try:
        return await asyncio.wait_for(asyncio.to_thread(_run), timeout_s + 1)
    except TimeoutError as exc:
        raise QueryTimeoutError(f"no answer within {timeout_s:.0f} s") from exc
    except GoogleAPICallError as exc:
        message = str(getattr(exc, "message", exc))
        raise WarehouseError(message[:500], missing=table_missing(exc)) from exc
