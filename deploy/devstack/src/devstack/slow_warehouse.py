"""A warehouse you can slow down and break: a proxy in front of the BigQuery emulator.

The emulator finishes every job inside `jobs.insert` and never fails on its own,
so ordering, timeouts and freshness cannot be seen on it. This proxy speaks the
same REST API and, for build jobs (those labelled with a `segment_id`), makes
BigQuery's behaviour visible again:

- a job runs for a duration (RUNNING until then; `getQueryResults` long-polls
  like BigQuery's, answering the moment the job ends);
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
import json
import random
import time
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

Outcome = Literal["ok", "fail", "lose", "hang"]
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


class Rule(BaseModel):
    duration_s: float = Field(0.0, ge=0, description="How long a job runs.")
    jitter_s: float = Field(0.0, ge=0, description="Up to this much more, at random.")
    outcome: Outcome = "ok"
    error: str = "injected failure"
    bytes_billed: int | None = Field(None, ge=0)


class Faults(BaseModel):
    default: Rule = Field(default_factory=Rule)
    segments: dict[str, Rule] = Field(default_factory=dict, description="By segment id (hex).")


@dataclass
class Job:
    job_id: str
    project: str
    segment: str
    rule: Rule
    started: float  # monotonic
    started_wall: datetime
    duration_s: float
    canceled_at: float | None = None
    canceled: asyncio.Event = field(default_factory=asyncio.Event)

    def remaining(self, now: float) -> float:
        if self.canceled_at is not None:
            return 0.0
        if self.rule.outcome == "hang":
            return float("inf")
        return max(0.0, self.started + self.duration_s - now)

    def finished(self, now: float) -> bool:
        if self.canceled_at is not None:
            return True
        return self.rule.outcome != "hang" and now >= self.started + self.duration_s

    def ended_wall(self) -> datetime | None:
        if self.canceled_at is not None:
            return datetime.fromtimestamp(
                self.started_wall.timestamp() + (self.canceled_at - self.started), UTC
            )
        if self.rule.outcome == "hang":
            return None
        return datetime.fromtimestamp(self.started_wall.timestamp() + self.duration_s, UTC)


class SlowWarehouse:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = Faults()
        self.jobs: dict[str, Job] = {}
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=120.0)

    # --- control -----------------------------------------------------------------------------

    async def set_faults(self, request: Request) -> Response:
        self.faults = Faults.model_validate(await request.json())
        return JSONResponse(self.faults.model_dump())

    async def set_segment(self, request: Request) -> Response:
        rule = Rule.model_validate(await request.json())
        self.faults.segments[request.path_params["segment"]] = rule
        return JSONResponse(rule.model_dump())

    async def reset(self, _: Request) -> Response:
        self.faults = Faults()
        self.jobs.clear()
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
                }
                for j in self.jobs.values()
            ]
        )

    # --- the BigQuery API --------------------------------------------------------------------

    async def insert(self, request: Request) -> Response:
        body = await request.body()
        payload = _json(body)
        labels = payload.get("configuration", {}).get("labels", {}) or {}
        segment = labels.get("segment_id")
        if not segment:
            return await self._forward(request, body)
        rule = self.faults.segments.get(segment, self.faults.default)
        reference = payload.get("jobReference", {})
        project = request.path_params["project"]
        job = Job(
            job_id=reference.get("jobId", ""),
            project=project,
            segment=segment,
            rule=rule,
            started=time.monotonic(),
            started_wall=datetime.now(UTC),
            duration_s=rule.duration_s + random.uniform(0, rule.jitter_s),  # noqa: S311
        )
        if job.job_id in self.jobs:
            return _error(409, f"Already Exists: Job {project}:{job.job_id}", "duplicate")
        if rule.outcome == "lose":
            self.jobs[job.job_id] = job
            return JSONResponse(_synthetic(job, payload))
        upstream = await self._forward(request, body)
        if upstream.status_code >= 300:
            return upstream
        self.jobs[job.job_id] = job
        return JSONResponse(self._shape(job, _json(bytes(upstream.body))))

    async def get_job(self, request: Request) -> Response:
        job = self.jobs.get(request.path_params["job"])
        if job is None:
            return await self._forward(request, await request.body())
        if job.rule.outcome == "lose":
            return _error(404, f"Not found: Job {job.project}:{job.job_id}", "notFound")
        upstream = await self._forward(request, b"")
        return JSONResponse(
            self._shape(job, _json(bytes(upstream.body))), status_code=upstream.status_code
        )

    async def query_results(self, request: Request) -> Response:
        job = self.jobs.get(request.path_params["job"])
        if job is None:
            return await self._forward(request, b"")
        if job.rule.outcome == "lose":
            return _error(404, f"Not found: Job {job.project}:{job.job_id}", "notFound")
        timeout_ms = int(request.query_params.get("timeoutMs", "10000"))
        # Like BigQuery: answer as soon as the job ends (or is canceled), else at the timeout.
        wait = min(job.remaining(time.monotonic()), timeout_ms / 1000, 60.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(job.canceled.wait(), wait)
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
        upstream = await self._client.get(f"/bigquery/v2/projects/{job.project}/jobs/{job.job_id}")
        return JSONResponse(
            {"kind": "bigquery#jobCancelResponse", "job": self._shape(job, _json(upstream.content))}
        )

    async def passthrough(self, request: Request) -> Response:
        return await self._forward(request, await request.body())

    # --- helpers -----------------------------------------------------------------------------

    def _failure(self, job: Job) -> dict[str, str] | None:
        if job.canceled_at is not None:
            return {"reason": "stopped", "message": "Job execution was cancelled: User requested"}
        if job.rule.outcome == "fail":
            return {"reason": "backendError", "message": job.rule.error}
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
            upstream_error = (resource.get("status") or {}).get("errorResult")
            if failure:
                status["errorResult"] = {**failure, "location": "", "debugInfo": ""}
                status["errors"] = [status["errorResult"]]
            elif upstream_error:
                status["errorResult"] = upstream_error
                status["errors"] = (resource.get("status") or {}).get("errors", [upstream_error])
        else:
            stats.pop("endTime", None)
        if job.rule.bytes_billed is not None:
            query = dict(stats.get("query") or {})
            query["totalBytesBilled"] = str(job.rule.bytes_billed)
            stats["query"] = query
        return {**resource, "status": status, "statistics": stats}

    async def _forward(self, request: Request, body: bytes) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
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


def _synthetic(job: Job, payload: dict[str, Any]) -> dict[str, Any]:
    """What jobs.insert answers for a job the warehouse is about to forget."""
    return {
        "kind": "bigquery#job",
        "id": f"{job.project}:{job.job_id}",
        "jobReference": {"projectId": job.project, "jobId": job.job_id},
        "configuration": payload.get("configuration", {}),
        "status": {"state": "RUNNING"},
        "statistics": {"creationTime": str(int(job.started_wall.timestamp() * 1000))},
    }


def create_app(upstream: str) -> Starlette:
    warehouse = SlowWarehouse(upstream)
    base = "/bigquery/v2/projects/{project}"
    app = Starlette(
        routes=[
            Route("/_faults", warehouse.set_faults, methods=["PUT"]),
            Route("/_faults", warehouse.reset, methods=["DELETE"]),
            Route("/_faults/segments/{segment}", warehouse.set_segment, methods=["PUT"]),
            Route("/_faults/jobs", warehouse.list_jobs, methods=["GET"]),
            Route(f"{base}/jobs", warehouse.insert, methods=["POST"]),
            Route(f"{base}/jobs/{{job}}", warehouse.get_job, methods=["GET"]),
            Route(f"{base}/jobs/{{job}}/cancel", warehouse.cancel, methods=["POST"]),
            Route(f"{base}/queries/{{job}}", warehouse.query_results, methods=["GET"]),
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
    args = parser.parse_args()
    app = create_app(args.upstream)
    app.state.warehouse.faults = Faults(
        default=Rule(duration_s=args.default_duration, jitter_s=args.default_jitter)
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
