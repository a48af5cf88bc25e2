"""Real implementations of the build service's ports."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from google.api_core.exceptions import BadRequest, Conflict
from google.cloud import bigquery

from compiler.service.ports import JobRefusedError
from segment_runtime.bigquery import REQUEST_TIMEOUT_S, SUBMIT_RETRY, to_query_parameters


class BigQuerySubmitter:
    def __init__(self, client: bigquery.Client) -> None:
        self._client = client

    def project(self) -> str:
        return str(self._client.project)

    async def submit(
        self,
        job_id: str,
        sql: str,
        params: dict[str, Any],
        labels: dict[str, str],
        destination: str | None = None,
    ) -> None:
        config = bigquery.QueryJobConfig(
            query_parameters=to_query_parameters(params),
            labels=labels,
            use_legacy_sql=False,
        )
        if destination is not None:
            config.destination = destination
            config.write_disposition = bigquery.WriteDisposition.WRITE_TRUNCATE
            config.create_disposition = bigquery.CreateDisposition.CREATE_IF_NEEDED

        def _submit() -> None:
            # Conflict: this very job was submitted before (a re-sent build).
            with contextlib.suppress(Conflict):
                try:
                    self._client.query(
                        sql,
                        job_config=config,
                        job_id=job_id,
                        retry=SUBMIT_RETRY,
                        job_retry=None,
                        timeout=REQUEST_TIMEOUT_S,
                    )
                except BadRequest as exc:
                    raise JobRefusedError(exc.message) from exc

        await asyncio.to_thread(_submit)

    async def drop_table(self, table: str) -> None:
        await asyncio.to_thread(
            self._client.delete_table, table, not_found_ok=True, timeout=REQUEST_TIMEOUT_S
        )


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self, time_zone: str) -> date:
        return datetime.now(UTC).astimezone(ZoneInfo(time_zone)).date()
