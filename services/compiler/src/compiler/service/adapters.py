"""Real implementations of the build service's ports."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from google.api_core.exceptions import BadRequest, Conflict, NotFound
from google.cloud import bigquery

from compiler.service.ports import JobRefusedError
from contracts.messages import JobPriority
from contracts.warehouse import EXITED_AT_COLUMN, LOG_COLUMNS, MEMBER_ID_COLUMN
from segment_runtime.bigquery import REQUEST_TIMEOUT_S, SUBMIT_RETRY, query_config


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
        priority: JobPriority,
    ) -> None:
        config = query_config(params, priority=priority, labels=labels)

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

    async def prepare_membership(self, log_table: str, member_table: str, view_sql: str) -> None:
        await asyncio.to_thread(prepare_membership, self._client, log_table, member_table, view_sql)

    async def drop_table(self, table: str) -> None:
        await asyncio.to_thread(
            self._client.delete_table, table, not_found_ok=True, timeout=REQUEST_TIMEOUT_S
        )


def prepare_membership(
    client: bigquery.Client, log_table: str, member_table: str, view_sql: str
) -> None:
    """The segment's log (partitioned by the day an interval closed, clustered by member)
    and its member view. Idempotent; a member table an older build left as a plain table
    is replaced by the view. Raises JobRefusedError when BigQuery refuses, or when the
    account has no dataset (no data loaded): no retry can make either work.

    Every call has a bounded retry: the client's default re-asks for ten minutes, and a
    build command waiting on it holds up its whole partition."""
    calls: dict[str, Any] = {"retry": SUBMIT_RETRY, "timeout": REQUEST_TIMEOUT_S}
    dataset = log_table.rsplit(".", 1)[0]
    log = bigquery.Table(
        log_table, schema=[bigquery.SchemaField(c, t) for c, t in LOG_COLUMNS.items()]
    )
    # Open intervals (today's members) sit in the __NULL__ partition: the view and each
    # build's MERGE read them, not the history.
    log.time_partitioning = bigquery.TimePartitioning(field=EXITED_AT_COLUMN)
    log.clustering_fields = [MEMBER_ID_COLUMN]
    try:
        client.get_dataset(dataset, **calls)
    except NotFound as exc:
        raise JobRefusedError(f"the account has no warehouse dataset {dataset}") from exc
    try:
        client.create_table(log, exists_ok=True, **calls)
        try:
            found = client.get_table(member_table, **calls)
        except NotFound:
            found = None
        if found is not None and found.table_type == "VIEW":
            return
        if found is not None:  # a member table written before the log existed
            client.delete_table(member_table, **calls)
        view = bigquery.Table(member_table)
        view.view_query = view_sql
        with contextlib.suppress(Conflict):  # another build made it meanwhile
            client.create_table(view, **calls)
    except (BadRequest, NotFound) as exc:
        raise JobRefusedError(f"the membership log: {exc.message}") from exc
