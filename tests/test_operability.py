"""Operators can see the platform: every service answers /health and /ready for the
dependencies it needs, and each one's /metrics counts the build the test just ran, in
Prometheus's text format."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from e2e import DEADLINE_S, create, next_status, pusher_client

pytestmark = pytest.mark.stack

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "rules": [{"type": "property", "field": "age", "operator": "gte", "value": 60}],
    },
}


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one metric sample, or 0 when it is absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_every_service_reports_health_and_counts_the_build(stack):
    ports = {
        "segment-api": stack.cfg.api_port,
        "notifier": stack.cfg.notifier_port,
        "compiler": stack.cfg.compiler_port,
        "job-monitor": stack.cfg.job_monitor_port,
        "scheduler": stack.cfg.scheduler_port,
    }
    pushers = pusher_client(stack)
    pusher = await anext(pushers)
    segment = await create(stack, "Counted", RULES)
    await asyncio.wait_for(next_status(pusher, segment["id"], "done", pusher=True), DEADLINE_S)
    await pushers.aclose()

    metrics: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for service, port in ports.items():
            base = f"http://127.0.0.1:{port}"
            assert (await http.get(f"{base}/health")).status_code in (200, 204), service
            ready = await http.get(f"{base}/ready")
            assert ready.status_code == 200, (service, ready.text)
            assert ready.json()["status"] == "ok" and ready.json()["kafka"] == "up", service
            if service != "notifier":  # the notifier needs no database
                assert ready.json()["postgres"] == "up", service
            scraped = await http.get(f"{base}/metrics")
            assert scraped.status_code == 200, service
            metrics[service] = scraped.text

    api = metrics["segment-api"]
    assert (
        sample(
            api,
            "segp_http_request_seconds_count",
            route="/v1/segments",
            method="POST",
            status="201",
        )
        >= 1
    )
    assert sample(metrics["scheduler"], "segp_build_changes_total", state="done") >= 1
    assert sample(metrics["job-monitor"], "segp_job_duration_seconds_count", outcome="done") >= 1
    assert (
        sample(
            metrics["notifier"],
            "segp_pushes_total",
            channel="PusherChannel",
            event="segment.status",
        )
        >= 1
    )
    # Kafka consumption, from FastStream's middleware: the compiler took the build command
    assert (
        sample(metrics["compiler"], "faststream_received_messages_total", handler="build.requested")
        >= 1
    )
    for service in ("compiler", "job-monitor", "scheduler", "segment-api"):
        assert "segp_outbox_backlog" in metrics[service], service


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
            if int(fields.get("PPid", "0").strip()) == pid:
                out.append(int(status.parent.name))
    return out


async def test_the_gateway_runs_a_worker_per_core_and_its_metrics_add_up_across_them(stack):
    """One server process per core by default; /metrics answers for all of them, so a
    scrape that reaches any worker counts every worker's requests."""
    gateway = stack.procs["segment-api"].pid
    workers = [c for c in _children(gateway) if "spawn_main" in _cmdline(c)]
    assert len(workers) == max(1, os.cpu_count() or 1)
    route = {"route": "/v1/refresh-runs/{run_id}", "method": "GET", "status": "404"}

    async def scraped() -> float:
        async with httpx.AsyncClient() as http:  # a new connection: any worker may answer
            return sample((await http.get(f"{stack.api}/metrics")).text, HTTP_COUNT, **route)

    before = await scraped()
    for _ in range(30):
        async with httpx.AsyncClient() as http:  # new connections spread over the workers
            missing = await http.get(
                f"{stack.api}/v1/refresh-runs/{uuid4()}", headers=stack.headers()
            )
            assert missing.status_code == 404
    assert [await scraped() for _ in range(4)] == [before + 30] * 4


HTTP_COUNT = "segp_http_request_seconds_count"


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""
