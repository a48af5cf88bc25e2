from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from google.api_core.exceptions import GoogleAPICallError, NotFound
from google.api_core.retry import Retry
from google.cloud import bigquery

from contracts.messages import JobPriority
from job_monitor.counts import BUILD_ID_PARAM, BUILD_TIME_PARAM, changed_ids_sql, counts_sql
from job_monitor.membership import BuildChanges
from job_monitor.ports import JobState, NotFoundError
from segment_runtime.bigquery import REQUEST_TIMEOUT_S, query_config, table_missing

T = TypeVar("T")
# Calls that read (a job's state, a count) may be retried briefly; nothing here submits.
READ_RETRY = Retry(initial=0.2, maximum=2.0, multiplier=2.0, timeout=20.0)
# Changed ids are read in pages of this many rows.
ID_PAGE_SIZE = 50_000


class BigQueryInspector:
    def __init__(self, client: bigquery.Client, concurrency: int) -> None:
        self._client = client
        # Long-polls hold a thread each: they get a pool of their own, sized to the
        # number of jobs followed at once, so they never starve other blocking calls.
        self._threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="bq-poll"
        )

    async def _run(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    async def state(self, job_id: str, wait_s: float) -> JobState:
        def _state() -> JobState:
            try:
                job = self._client.get_job(job_id, retry=READ_RETRY, timeout=REQUEST_TIMEOUT_S)
            except NotFound:
                return JobState("failed", error=f"job {job_id} is not known to BigQuery")
            if job.state != "DONE" and wait_s > 0 and isinstance(job, bigquery.QueryJob):
                # getQueryResults answers as soon as the job ends (or after wait_s); a job
                # that failed raises here, and its error is read from the job below.
                # The client's default retry re-asks on `backendError` for up to ten
                # minutes, hiding a failed job past the check's lease: READ_RETRY retries
                # only transport trouble, so a failure is read from the job at once.
                with contextlib.suppress(concurrent.futures.TimeoutError, GoogleAPICallError):
                    job.result(timeout=wait_s, max_results=0, job_retry=None, retry=READ_RETRY)
                job.reload(retry=READ_RETRY, timeout=REQUEST_TIMEOUT_S)
            if job.state != "DONE":
                return JobState(
                    "running" if job.state == "RUNNING" else "pending", started=job.started
                )
            error = job.error_result
            billed = getattr(job, "total_bytes_billed", None)
            return JobState(
                "failed" if error else "done",
                error=(error.get("message") or str(error)) if error else None,
                started=job.started,
                ended=job.ended,
                bytes_billed=int(billed) if billed is not None else None,
            )

        return await self._run(_state)

    async def cancel(self, job_id: str) -> None:
        def _cancel() -> None:
            with contextlib.suppress(NotFound):
                self._client.cancel_job(job_id, timeout=REQUEST_TIMEOUT_S)

        await self._run(_cancel)

    async def changes(
        self, log_table: str, build_id: UUID, build_time: datetime | None, *, ids: bool
    ) -> BuildChanges:
        # The counts are on the way to a person's `done`; the ids are announced afterwards,
        # so they wait for idle slots (BATCH) rather than compete with the next builds.
        config = query_config(
            {
                BUILD_ID_PARAM: str(build_id),
                BUILD_TIME_PARAM: build_time or datetime.fromtimestamp(0, UTC),
            },
            priority=JobPriority.BATCH if ids else JobPriority.INTERACTIVE,
            # Labelled as a build's bookkeeping: a warehouse (or the local one) can tell it
            # from a person's query, and billing can be traced to the build.
            labels={"build_id": build_id.hex, "purpose": "ids" if ids else "counts"},
        )

        def _query(sql: str) -> Iterator[Any]:
            try:
                return iter(
                    self._client.query(
                        sql, job_config=config, timeout=REQUEST_TIMEOUT_S, job_retry=None
                    ).result(timeout=REQUEST_TIMEOUT_S, page_size=ID_PAGE_SIZE)
                )
            except GoogleAPICallError as exc:
                if table_missing(exc):
                    raise NotFoundError(str(getattr(exc, "message", exc))) from exc
                raise

        def _run() -> BuildChanges:
            row = next(_query(counts_sql(log_table)))
            counted = BuildChanges(
                int(row["members"]), int(row["entered"] or 0), int(row["exited"] or 0)
            )
            if not ids or not counted.changed:
                return counted
            entered: list[str] = []
            exited: list[str] = []
            for r in _query(changed_ids_sql(log_table)):
                (exited if r["exited"] else entered).append(str(r["member_id"]))
            return BuildChanges(counted.members, counted.entered, counted.exited, entered, exited)

        return await self._run(_run)
