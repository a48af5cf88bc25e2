"""The slow warehouse behaves like BigQuery where the emulator does not.

Fast tests: the proxy runs in memory in front of a fake upstream (a Starlette app
whose query endpoints can be held), so what reaches "the emulator", and when, is
observable. The proxy runs for real on the stack in every stack test.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack.slow_warehouse import create_app

BASE = "/bigquery/v2/projects/p"


class Upstream:
    """Records every statement in the order it arrived; `hold` keeps queries waiting."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.refuse: set[str] = set()
        self.tables: dict[str, tuple[int, int]] = {}  # name: (rows, columns)

    def app(self) -> Starlette:
        async def insert(request: Request) -> JSONResponse:
            body = await request.json()
            name = body["configuration"]["query"]["query"]
            self.arrived.append(name)
            await self.hold.wait()
            if name in self.refuse:
                return JSONResponse(
                    {"error": {"message": "Syntax error", "errors": [{"reason": "invalidQuery"}]}},
                    status_code=400,
                )
            return JSONResponse({**body, "status": {"state": "DONE"}, "statistics": {}})

        async def query(request: Request) -> JSONResponse:
            body = await request.json()
            self.arrived.append(body["query"])
            return JSONResponse({"jobComplete": True, "rows": []})

        async def get_job(request: Request) -> JSONResponse:
            return JSONResponse(
                {
                    "jobReference": {"projectId": "p", "jobId": request.path_params["job"]},
                    "configuration": {"query": {"query": "?"}},
                    "status": {"state": "DONE"},
                    "statistics": {},
                }
            )

        async def table(request: Request) -> JSONResponse:
            name = request.path_params["table"]
            if name not in self.tables:
                return JSONResponse({"error": {"message": "Not found"}}, status_code=404)
            rows, columns = self.tables[name]
            fields = [{"name": f"c{i}", "type": "STRING"} for i in range(columns)]
            return JSONResponse({"numRows": str(rows), "schema": {"fields": fields}})

        return Starlette(
            routes=[
                Route(f"{BASE}/datasets/{{dataset}}/tables/{{table}}", table, methods=["GET"]),
                Route(f"{BASE}/jobs", insert, methods=["POST"]),
                Route(f"{BASE}/queries", query, methods=["POST"]),
                Route(f"{BASE}/jobs/{{job}}", get_job, methods=["GET"]),
            ]
        )


def _build(job_id: str, sql: str, priority: str = "INTERACTIVE") -> dict[str, Any]:
    return {
        "jobReference": {"projectId": "p", "jobId": job_id},
        "configuration": {
            "labels": {"segment_id": "s1"},
            "query": {"query": sql, "priority": priority, "useLegacySql": False},
        },
    }


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
async def proxy(upstream: Upstream) -> Any:
    app = create_app(
        "http://emulator",
        transport=httpx.ASGITransport(app=upstream.app()),
        default_bytes=10_485_760,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://warehouse"
    ) as client:
        yield client


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_insert_answers_at_once_and_the_job_runs_in_the_background(
    proxy: httpx.AsyncClient, upstream: Upstream
) -> None:
    upstream.hold.clear()
    answer = await asyncio.wait_for(proxy.post(f"{BASE}/jobs", json=_build("j1", "a")), 2)
    assert answer.status_code == 200
    assert answer.json()["status"]["state"] == "RUNNING"
    running = (await proxy.get(f"{BASE}/jobs/j1")).json()
    assert running["status"]["state"] == "RUNNING"
    assert running["configuration"]["labels"] == {"segment_id": "s1"}
    upstream.hold.set()
    await asyncio.sleep(0.05)
    done = (await proxy.get(f"{BASE}/jobs/j1")).json()
    assert done["status"]["state"] == "DONE"
    assert done["statistics"]["query"]["totalBytesBilled"] == "10485760"
    assert upstream.arrived == ["a"]


async def test_a_refused_statement_fails_its_job_not_its_insert(
    proxy: httpx.AsyncClient, upstream: Upstream
) -> None:
    upstream.refuse.add("bad")
    assert (await proxy.post(f"{BASE}/jobs", json=_build("j2", "bad"))).status_code == 200
    results = await proxy.get(f"{BASE}/queries/j2", params={"timeoutMs": 2000})
    assert results.status_code == 400
    assert results.json()["error"]["errors"][0]["reason"] == "invalidQuery"
    job = (await proxy.get(f"{BASE}/jobs/j2")).json()
    assert job["status"]["errorResult"]["message"] == "Syntax error"
    assert "totalBytesBilled" not in job["statistics"].get("query", {})


async def test_interactive_builds_go_before_batch_and_batch_waits_for_people(
    proxy: httpx.AsyncClient, upstream: Upstream
) -> None:
    upstream.hold.clear()
    await proxy.post(f"{BASE}/jobs", json=_build("first", "first", "BATCH"))
    await _settle()
    assert upstream.arrived == ["first"]  # holds the one turn
    for n in range(3):
        await proxy.post(f"{BASE}/jobs", json=_build(f"b{n}", f"batch{n}", "BATCH"))
    await proxy.post(f"{BASE}/jobs", json=_build("i0", "interactive", "INTERACTIVE"))
    # A person's preview is not a build: it goes straight through, whatever is queued.
    preview = await asyncio.wait_for(proxy.post(f"{BASE}/queries", json={"query": "preview"}), 2)
    assert preview.status_code == 200
    upstream.hold.set()
    await asyncio.sleep(0.1)
    assert upstream.arrived == ["first", "preview", "interactive", "batch0", "batch1", "batch2"]


async def test_a_builds_read_back_takes_turns_with_builds_and_a_preview_does_not(
    proxy: httpx.AsyncClient, upstream: Upstream
) -> None:
    upstream.hold.clear()
    await proxy.post(f"{BASE}/jobs", json=_build("first", "first"))
    await _settle()

    def query(job_id: str, sql: str, labels: dict[str, str]) -> dict[str, Any]:
        return {
            "jobReference": {"projectId": "p", "jobId": job_id},
            "configuration": {"labels": labels, "query": {"query": sql}},
        }

    await proxy.post(f"{BASE}/jobs", json=_build("next", "next statement"))
    counts = asyncio.create_task(
        proxy.post(f"{BASE}/jobs", json=query("c1", "counts", {"build_id": "b1"}))
    )
    person = asyncio.create_task(proxy.post(f"{BASE}/jobs", json=query("p1", "preview", {})))
    await _settle()
    assert upstream.arrived == ["first", "preview"]  # the read-back waits its turn
    upstream.hold.set()
    await asyncio.gather(counts, person)
    await asyncio.sleep(0.05)
    # ...and goes before the next statement: its build already ran.
    assert upstream.arrived == ["first", "preview", "counts", "next statement"]


async def test_a_job_canceled_before_its_turn_never_runs(
    proxy: httpx.AsyncClient, upstream: Upstream
) -> None:
    upstream.hold.clear()
    await proxy.post(f"{BASE}/jobs", json=_build("a", "a"))
    await proxy.post(f"{BASE}/jobs", json=_build("b", "b"))
    await _settle()
    canceled = await proxy.post(f"{BASE}/jobs/b/cancel")
    assert canceled.json()["job"]["status"]["state"] == "DONE"
    upstream.hold.set()
    await asyncio.sleep(0.05)
    assert upstream.arrived == ["a"]
    results = await proxy.get(f"{BASE}/queries/b", params={"timeoutMs": 100})
    assert results.json()["error"]["errors"][0]["reason"] == "stopped"


async def test_a_dry_run_says_the_bytes_of_the_tables_it_reads(proxy, upstream):
    """The emulator says 0 bytes for a dry run; the local stack says what the tables
    read hold, so a rule that reads more tables costs more (cost before save)."""
    upstream.tables = {"customers": (1000, 10), "customer_events": (20_000, 6)}

    async def dry(sql: str) -> int:
        body = {"configuration": {"dryRun": True, "query": {"query": sql}}}
        answer = await proxy.post(f"{BASE}/jobs", json=body)
        assert answer.status_code == 200
        stats = answer.json()["statistics"]
        assert stats["query"]["totalBytesProcessed"] == stats["totalBytesProcessed"]
        return int(stats["totalBytesProcessed"])

    alone = await dry("SELECT 1 FROM `p`.`d`.`customers` AS t")
    joined = await dry(
        "SELECT 1 FROM `p`.`d`.`customers` AS t LEFT JOIN"
        " (SELECT 1 FROM `p`.`d`.`customer_events` AS r) AS a ON TRUE"
    )
    assert alone == 1000 * 10 * 8
    assert joined == alone + 20_000 * 6 * 8
    assert await dry("SELECT 1 FROM `p`.`d`.`gone`") == 0  # an unknown table reads nothing
