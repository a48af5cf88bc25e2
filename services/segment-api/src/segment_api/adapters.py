from __future__ import annotations

import asyncio
from typing import Any

from google.api_core.exceptions import GoogleAPICallError
from google.cloud import bigquery

from segment_api.ports import DryRunResult
from segment_runtime.bigquery import REQUEST_TIMEOUT_S, to_query_parameters


class BigQueryWarehouse:
    def __init__(self, client: bigquery.Client) -> None:
        self._client = client

    def project(self) -> str:
        return str(self._client.project)

    async def dry_run(self, sql: str, params: dict[str, Any]) -> DryRunResult:
        config = bigquery.QueryJobConfig(
            dry_run=True, use_query_cache=False, query_parameters=to_query_parameters(params)
        )

        def _run() -> DryRunResult:
            try:
                job = self._client.query(
                    sql, job_config=config, timeout=REQUEST_TIMEOUT_S, job_retry=None
                )
            except GoogleAPICallError as exc:
                return DryRunResult(ok=False, error=str(getattr(exc, "message", exc))[:2000])
            return DryRunResult(ok=True, bytes_processed=job.total_bytes_processed)

        return await asyncio.to_thread(_run)
