from __future__ import annotations

import asyncio

from google.api_core.exceptions import NotFound
from google.cloud import bigquery
from segment_runtime.bigquery import REQUEST_TIMEOUT_S

from job_monitor.ports import JobState


class BigQueryInspector:
    def __init__(self, client: bigquery.Client) -> None:
        self._client = client

    async def state(self, job_id: str) -> JobState:
        try:
            job = await asyncio.to_thread(self._client.get_job, job_id, timeout=REQUEST_TIMEOUT_S)
        except NotFound:
            return JobState("failed", error=f"job {job_id} not found in BigQuery")
        if job.state != "DONE":
            return JobState("running")
        error = job.error_result
        billed = getattr(job, "total_bytes_billed", None)
        return JobState(
            "failed" if error else "done",
            error=(error.get("message") or str(error)) if error else None,
            started=job.started,
            ended=job.ended,
            bytes_billed=int(billed) if billed is not None else None,
        )

    async def cancel(self, job_id: str) -> None:
        await asyncio.to_thread(self._client.cancel_job, job_id, timeout=REQUEST_TIMEOUT_S)

    async def row_count(self, table: str) -> int:
        t = await asyncio.to_thread(self._client.get_table, table, timeout=REQUEST_TIMEOUT_S)
        return int(t.num_rows or 0)
