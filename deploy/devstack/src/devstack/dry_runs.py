"""What a dry run would process, on the local stack: the emulator answers a dry run with
0 bytes, so the slow warehouse fills in the size of the tables the statement reads, as
BigQuery bills a query by the bytes of the tables (and columns) it touches. That keeps
"cost before save" visible and testable here: a rule that reads events costs more than
one that reads the customer table alone."""

from __future__ import annotations

import json
from typing import Any

import httpx
import sqlglot
from sqlglot import exp
from starlette.responses import JSONResponse, Response


def tables_read(sql: str) -> set[tuple[str, str, str]]:
    """(project, dataset, table) of every fully named table the statement reads."""
    try:
        tree = sqlglot.parse_one(sql, read="bigquery")
    except sqlglot.errors.ParseError:
        return set()
    return {(t.catalog, t.db, t.name) for t in tree.find_all(exp.Table) if t.catalog and t.db}


async def table_bytes(client: httpx.AsyncClient, project: str, dataset: str, table: str) -> int:
    """The table's bytes as the emulator reports them (else rows x columns x 8)."""
    answer = await client.get(f"/bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}")
    if answer.status_code != 200:
        return 0
    resource: dict[str, Any] = answer.json()
    if int(resource.get("numBytes") or 0) > 0:
        return int(resource["numBytes"])
    columns = len((resource.get("schema") or {}).get("fields") or [])
    return int(resource.get("numRows") or 0) * max(columns, 1) * 8


async def estimate(client: httpx.AsyncClient, sql: str) -> int:
    return sum([await table_bytes(client, *name) for name in sorted(tables_read(sql))])


def with_bytes(resource: dict[str, Any], processed: int) -> dict[str, Any]:
    """The dry run's job resource, saying `processed` bytes."""
    stats = dict(resource.get("statistics") or {})
    query = dict(stats.get("query") or {})
    stats["totalBytesProcessed"] = query["totalBytesProcessed"] = str(processed)
    stats["query"] = query
    return {**resource, "statistics": stats}


async def answered(client: httpx.AsyncClient, answer: Response) -> Response:
    """The emulator's answer to a dry run, with the bytes of the tables it reads."""
    if answer.status_code != 200:
        return answer
    resource: dict[str, Any] = json.loads(bytes(answer.body))
    sql = str(((resource.get("configuration") or {}).get("query") or {}).get("query") or "")
    return JSONResponse(with_bytes(resource, await estimate(client, sql)))
