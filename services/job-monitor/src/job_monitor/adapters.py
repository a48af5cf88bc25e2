from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from google.api_core.exceptions import NotFound
from google.cloud import bigquery

from compiler.statements import BUILD_TIME_PARAM, Target, refresh_counts
from job_monitor.ports import JobState
from segment_runtime.bigquery import REQUEST_TIMEOUT_S, to_query_parameters


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
        affected = getattr(job, "num_dml_affected_rows", None)
        return JobState(
            "failed" if error else "done",
            affected_rows=int(affected) if affected is not None else None,
            error=(error.get("message") or str(error)) if error else None,
            started=job.started,
            ended=job.ended,
            bytes_billed=int(billed) if billed is not None else None,
        )

    async def cancel(self, job_id: str) -> None:
        await asyncio.to_thread(self._client.cancel_job, job_id, timeout=REQUEST_TIMEOUT_S)

    async def counts(self, table: str, build_time: datetime | None) -> tuple[int, int]:
        project, dataset, name = table.split(".")
        query = refresh_counts(Target(project, dataset), name)
        config = bigquery.QueryJobConfig(
            query_parameters=to_query_parameters(
                {BUILD_TIME_PARAM: build_time or datetime.fromtimestamp(0, UTC)}
            )
        )

        def _run() -> tuple[int, int]:
            row = next(
                iter(
                    self._client.query(
                        query.sql, job_config=config, timeout=REQUEST_TIMEOUT_S
                    ).result()
                )
            )
            return int(row["members"]), int(row["entered"] or 0)

        return await asyncio.to_thread(_run)
