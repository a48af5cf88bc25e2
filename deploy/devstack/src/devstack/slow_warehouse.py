"""A warehouse you can slow down and break: a proxy in front of the BigQuery emulator.

The emulator finishes every job inside `jobs.insert`, runs one query at a time
and never fails on its own, so ordering, timeouts and freshness cannot be seen
on it. This proxy speaks the same REST API and, for build jobs (those labelled
with a `segment_id`), makes BigQuery's behaviour visible again:

- `jobs.insert` answers at once and the job runs in the background, so a client
  that submits many jobs is not held up by any of them, and jobs run side by side;
- a job runs for a duration (RUNNING until then; `getQueryResults` long-polls
  like BigQuery's, answering the moment the job ends);
- priority is honoured: the emulator gets one build statement (or a build's
  read-back, labelled with its `build_id`) at a time, INTERACTIVE before BATCH, and
  a BATCH one only while no person's query is in flight, so a preview waits for at
  most one of a refresh run's statements, not for the whole run;
- a statement the emulator refuses fails its job (`invalidQuery`), as BigQuery
  fails a job rather than its insert;
- it can fail with an error, be lost (BigQuery forgets it: 404), or hang until
  canceled; its bytes billed can be set (for the cost threshold);
- it records when each job started and ended, so a test can check the order.

Rules are set per segment, or as the default, through `/_faults`; everything
else passes through untouched. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import itertools
import json
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import uvicorn
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contracts.clock import SYSTEM_CLOCK
from devstack import dry_runs

Outcome = Literal["ok", "fail", "lose", "hang"]
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}
# BigQuery bills at least 10 MB for a query that reads a table.
MIN_BYTES_BILLED = 10 * 1024 * 1024


class Rule(BaseModel):
    duration_s: float = Field(0.0, ge=0, description="How long a job runs.")
    jitter_s: float = Field(0.0, ge=0, description="Up to this much more, at random.")
    outcome: Outcome = "ok"
    error: str = "injected failure"
    bytes_billed: int | None = Field(None, ge=0, description="None: what the emulator says.")


class Faults(BaseModel):
    default: Rule = Field(default_factory=Rule)
    segments: dict[str, Rule] = Field(default_factory=dict, description="By segment id (hex).")


class Turns:
    """Who may send a build statement to the emulator next.

    The emulator runs one statement at a time, in arrival order: forwarding a refresh
    run's statements as they come would put a person's preview behind all of them. So
    build statements go one at a time, INTERACTIVE before BATCH (then in arrival
    order), and a BATCH one waits while any person's query is in flight."""

    def __init__(self) -> None:
        self._busy = False
        self._people = 0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @contextlib.asynccontextmanager
    async def build(self, batch: bool, read_back: bool = False) -> AsyncIterator[None]:
        """A read-back (a build's counts) goes before statements: its build already ran,
        and its answer is what lets the next layer start."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (2 if batch else 1 - int(read_back), next(self._order), turn)
        heapq.heappush(self._waiting, entry)
        self._next()
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._busy = False  # granted as we were canceled: pass it on
            else:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
            self._next()
            raise
        try:
            yield
        finally:
            self._busy = False
            self._next()

    @contextlib.asynccontextmanager
    async def person(self) -> AsyncIterator[None]:
        self._people += 1
        try:
            yield
        finally:
            self._people -= 1
            self._next()

    def _next(self) -> None:
        if self._busy or not self._waiting:
            return
        rank, _, turn = self._waiting[0]
        if rank == 2 and self._people:  # BATCH waits while a person's query is in flight
            return
        heapq.heappop(self._waiting)
        self._busy = True
        turn.set_result(None)


@dataclass
class Executed:
    """What the emulator answered the job's statement."""

    status: int
    body: dict[str, Any]

    def error(self) -> dict[str, str] | None:
        if self.status < 300:
            return (self.body.get("status") or {}).get("errorResult")
        errors = (self.body.get("error") or {}).get("errors") or [{}]
        message = (self.body.get("error") or {}).get("message", "the statement was refused")
        return {"reason": errors[0].get("reason", "invalidQuery"), "message": message}


@dataclass
class Job:
    job_id: str
    project: str
    segment: str
    rule: Rule
    started: float  # monotonic
    started_wall: datetime
    duration_s: float
    priority: str = "INTERACTIVE"
    payload: dict[str, Any] = field(default_factory=dict)  # what jobs.insert was sent
    canceled_at: float | None = None
    canceled: asyncio.Event = field(default_factory=asyncio.Event)
    executed: Executed | None = None
    done_executing: asyncio.Event = field(default_factory=asyncio.Event)
    # Seconds the statement waited for its turn at the emulator, and ran there.
    waited_s: float | None = None
    ran_s: float | None = None

    def remaining(self, now: float) -> float:
        if self.canceled_at is not None:
            return 0.0
        if self.rule.outcome == "hang":
            return float("inf")
        return max(0.0, self.started + self.duration_s - now)

    def finished(self, now: float) -> bool:
        if self.canceled_at is not None:
            return True
        return (
            self.rule.outcome != "hang"
            and now >= self.started + self.duration_s
            and self.done_executing.is_set()
        )

    def ended_wall(self) -> datetime | None:
        if self.canceled_at is not None:
            return datetime.fromtimestamp(
                self.started_wall.timestamp() + (self.canceled_at - self.started), UTC
            )
        if self.rule.outcome == "hang":
            return None
        return datetime.fromtimestamp(self.started_wall.timestamp() + self.duration_s, UTC)


class SlowWarehouse:
    def __init__(
        self,
        upstream: str,
        transport: httpx.AsyncBaseTransport | None = None,
        default_bytes: int | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        # What the command line set; a reset goes back to it.
        self.initial = Faults()
        self.faults = Faults()
        self.jobs: dict[str, Job] = {}
        self.turns = Turns()
        # Bytes billed for a build job whose rule sets none (the emulator bills nothing).
        self.default_bytes = default_bytes
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=120.0, transport=transport)
        self._running: set[asyncio.Task[None]] = set()

    # --- the BigQuery API --------------------------------------------------------------------

    async def insert(self, request: Request) -> Response:
        body = await request.body()
        payload = _json(body)
        configuration = payload.get("configuration", {})
        if configuration.get("dryRun"):  # the emulator checks it; the bytes are ours
            return await dry_runs.answered(self._client, await self._forward(request, body))
        labels = configuration.get("labels", {}) or {}
        segment = labels.get("segment_id")
        if not segment:
            return await self._forward_query(request, body, configuration, labels)
        rule = self.faults.segments.get(segment, self.faults.default)
        reference = payload.get("jobReference", {})
        project = request.path_params["project"]
        job = Job(
            job_id=reference.get("jobId", ""),
            project=project,
            segment=segment,
            rule=rule,
            started=time.monotonic(),
            started_wall=SYSTEM_CLOCK.now(),
            duration_s=rule.duration_s + random.uniform(0, rule.jitter_s),  # noqa: S311
            priority=_priority(configuration),
            payload=payload,
        )
        if job.job_id in self.jobs:
            return _error(409, f"Already Exists: Job {project}:{job.job_id}", "duplicate")
        self.jobs[job.job_id] = job
        if rule.outcome != "lose":
            # Like BigQuery: the insert answers now and the statement runs in the background.
            headers = _forward_headers(request)
            task = asyncio.create_task(self._execute(job, request.url.path, body, headers))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return JSONResponse(self._shape(job, _synthetic(job)))

    async def _execute(self, job: Job, path: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            async with self.turns.build(batch=job.priority == "BATCH"):
                if job.canceled_at is not None:
                    return  # canceled before it ran: nothing was written
                began = time.monotonic()
                job.waited_s = began - job.started
                upstream = await self._client.post(path, content=body, headers=headers)
                job.ran_s = time.monotonic() - began
            job.executed = Executed(upstream.status_code, _json(upstream.content))
        except httpx.HTTPError as exc:
            job.executed = Executed(
                503, {"error": {"message": str(exc), "errors": [{"reason": "backendError"}]}}
            )
        finally:
            job.done_executing.set()

    async def get_job(self, request: Request) -> Response:
        job = self.jobs.get(request.path_params["job"])
        if job is None:
            return await self._forward(request, await request.body())
        if job.rule.outcome == "lose":
            return _error(404, f"Not found: Job {job.project}:{job.job_id}", "notFound")
        return JSONResponse(self._shape(job, self._resource(job)))

    async def query_results(self, request: Request) -> Response:
        job = self.jobs.get(request.path_params["job"])
        if job is None:
            return await self._forward(request, b"")
        if job.rule.outcome == "lose":
            return _error(404, f"Not found: Job {job.project}:{job.job_id}", "notFound")
        timeout_ms = int(request.query_params.get("timeoutMs", "10000"))
        # Like BigQuery: answer as soon as the job ends (or is canceled), else at the timeout.
        deadline = time.monotonic() + min(timeout_ms / 1000, 60.0)
        wait = min(job.remaining(time.monotonic()), deadline - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(job.canceled.wait(), max(0.0, wait))
        if job.canceled_at is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    job.done_executing.wait(), max(0.0, deadline - time.monotonic())
                )
        if not job.finished(time.monotonic()):
            return JSONResponse(
                {
                    "kind": "bigquery#getQueryResultsResponse",
                    "jobReference": {"projectId": job.project, "jobId": job.job_id},
                    "jobComplete": False,
                }
            )
        failure = self._failure(job)
        if failure:
            return _error(400, failure["message"], failure["reason"])
        return await self._forward(request, b"")

    async def cancel(self, request: Request) -> Response:
        job = self.jobs.get(request.path_params["job"])
        if job is None:
            return await self._forward(request, b"")
        if job.rule.outcome == "lose":
            return _error(404, f"Not found: Job {job.project}:{job.job_id}", "notFound")
        if not job.finished(time.monotonic()):
            job.canceled_at = time.monotonic()
            job.canceled.set()
        return JSONResponse(
            {
                "kind": "bigquery#jobCancelResponse",
                "job": self._shape(job, self._resource(job)),
            }
        )

    def _resource(self, job: Job) -> dict[str, Any]:
        """The emulator's view of the job once its statement ran (it finished inside its
        insert, so that answer is final: asking again would only queue behind the
        emulator's one query at a time), else what insert answered."""
        if job.executed is None or job.executed.status >= 300:
            return _synthetic(job)
        return job.executed.body

    async def _forward_query(
        self,
        request: Request,
        body: bytes,
        configuration: dict[str, Any],
        labels: dict[str, str] | None = None,
    ) -> Response:
        """Not a build job. A build's bookkeeping (labelled with its `build_id`: counts and
        ids read back) and any BATCH query take turns with the build statements; the rest
        is a person's query (a preview, a detail read) and goes straight through."""
        batch = _priority(configuration) == "BATCH"
        if batch or (labels or {}).get("build_id"):
            async with self.turns.build(batch=batch, read_back=True):
                return await self._forward(request, body)
        async with self.turns.person():
            return await self._forward(request, body)

    async def queries(self, request: Request) -> Response:
        """jobs.query: a person's query (previews and counts)."""
        body = await request.body()
        return await self._forward_query(request, body, {"query": _json(body)})

    async def passthrough(self, request: Request) -> Response:
        return await self._forward(request, await request.body())

    # --- helpers -----------------------------------------------------------------------------

    def _failure(self, job: Job) -> dict[str, str] | None:
        if job.canceled_at is not None:
            return {"reason": "stopped", "message": "Job execution was cancelled: User requested"}
        if job.rule.outcome == "fail":
            return {"reason": "backendError", "message": job.rule.error}
        if job.executed is not None:
            return job.executed.error()
        return None

    def _shape(self, job: Job, resource: dict[str, Any]) -> dict[str, Any]:
        """The job resource as BigQuery would show it at this moment."""
        now = time.monotonic()
        status: dict[str, Any] = {"state": "DONE" if job.finished(now) else "RUNNING"}
        stats = dict(resource.get("statistics") or {})
        stats["startTime"] = str(int(job.started_wall.timestamp() * 1000))
        stats.setdefault("creationTime", stats["startTime"])
        ended = job.ended_wall()
        if job.finished(now) and ended is not None:
            stats["endTime"] = str(int(ended.timestamp() * 1000))
            failure = self._failure(job)
            if failure:
                status["errorResult"] = {**failure, "location": "", "debugInfo": ""}
                status["errors"] = [status["errorResult"]]
            billed = (
                job.rule.bytes_billed if job.rule.bytes_billed is not None else self.default_bytes
            )
            if billed is not None and not failure:
                query = dict(stats.get("query") or {})
                query["totalBytesBilled"] = str(billed)
                query["totalBytesProcessed"] = str(billed)
                stats["query"] = query
        else:
            stats.pop("endTime", None)
        return {**resource, "status": status, "statistics": stats}

    async def _forward(self, request: Request, body: bytes) -> Response:
        headers = _forward_headers(request)
        upstream = await self._client.request(
            request.method,
            request.url.path,
            params=request.query_params,
            content=body,
            headers=headers,
        )
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            headers={k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS},
        )


class Controls:
    """The `/_faults` routes: what tests and operators set (faults per segment, a reset)
    and read (the jobs seen, with their priority and how long they waited and ran)."""

    def __init__(self, warehouse: SlowWarehouse) -> None:
        self.warehouse = warehouse

    async def set_faults(self, request: Request) -> Response:
        self.warehouse.faults = Faults.model_validate(await request.json())
        return JSONResponse(self.warehouse.faults.model_dump())

    async def set_segment(self, request: Request) -> Response:
        rule = Rule.model_validate(await request.json())
        self.warehouse.faults.segments[request.path_params["segment"]] = rule
        return JSONResponse(rule.model_dump())

    async def reset(self, _: Request) -> Response:
        self.warehouse.faults = self.warehouse.initial.model_copy(deep=True)
        self.warehouse.jobs.clear()
        return Response(status_code=204)

    async def list_jobs(self, _: Request) -> Response:
        now = time.monotonic()
        return JSONResponse(
            [
                {
                    "job_id": j.job_id,
                    "segment": j.segment,
                    "outcome": j.rule.outcome,
                    "started_at": j.started_wall.isoformat(),
                    "ended_at": e.isoformat()
                    if (e := j.ended_wall()) and j.finished(now)
                    else None,
                    "canceled": j.canceled_at is not None,
                    "priority": j.priority,
                    "waited_s": j.waited_s,
                    "ran_s": j.ran_s,
                }
                for j in self.warehouse.jobs.values()
            ]
        )


def _forward_headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}


def _priority(configuration: dict[str, Any]) -> str:
    """BigQuery's default is INTERACTIVE."""
    return str((configuration.get("query") or {}).get("priority") or "INTERACTIVE").upper()


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _error(code: int, message: str, reason: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": code,
                "message": message,
                "errors": [{"reason": reason, "message": message}],
            }
        },
        status_code=code,
    )


def _synthetic(job: Job) -> dict[str, Any]:
    """The job as inserted, before the emulator has run it (or for a job it will forget)."""
    return {
        "kind": "bigquery#job",
        "id": f"{job.project}:{job.job_id}",
        "jobReference": {"projectId": job.project, "jobId": job.job_id},
        "configuration": job.payload.get("configuration", {}),
        "status": {"state": "RUNNING"},
        "statistics": {"creationTime": str(int(job.started_wall.timestamp() * 1000))},
    }


def create_app(
    upstream: str,
    transport: httpx.AsyncBaseTransport | None = None,
    default_bytes: int | None = None,
) -> Starlette:
    warehouse = SlowWarehouse(upstream, transport, default_bytes)
    controls = Controls(warehouse)
    base = "/bigquery/v2/projects/{project}"
    app = Starlette(
        routes=[
            Route("/_faults", controls.set_faults, methods=["PUT"]),
            Route("/_faults", controls.reset, methods=["DELETE"]),
            Route("/_faults/segments/{segment}", controls.set_segment, methods=["PUT"]),
            Route("/_faults/jobs", controls.list_jobs, methods=["GET"]),
            Route(f"{base}/jobs", warehouse.insert, methods=["POST"]),
            Route(f"{base}/jobs/{{job}}", warehouse.get_job, methods=["GET"]),
            Route(f"{base}/jobs/{{job}}/cancel", warehouse.cancel, methods=["POST"]),
            Route(f"{base}/queries/{{job}}", warehouse.query_results, methods=["GET"]),
            Route(f"{base}/queries", warehouse.queries, methods=["POST"]),
            Route(
                "/{path:path}",
                warehouse.passthrough,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ]
    )
    app.state.warehouse = warehouse
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--upstream", required=True, help="the emulator's REST endpoint")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--default-duration", type=float, default=0.0)
    parser.add_argument("--default-jitter", type=float, default=0.0)
    parser.add_argument(
        "--default-bytes",
        type=int,
        default=None,
        help=f"bytes billed per build job (BigQuery's minimum is {MIN_BYTES_BILLED})",
    )
    args = parser.parse_args()
    app = create_app(args.upstream, default_bytes=args.default_bytes)
    warehouse: SlowWarehouse = app.state.warehouse
    warehouse.initial = Faults(
        default=Rule(duration_s=args.default_duration, jitter_s=args.default_jitter)
    )
    warehouse.faults = warehouse.initial.model_copy(deep=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
