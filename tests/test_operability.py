"""Operators can see the platform: every service answers /health and /ready for the
dependencies it needs, and each one's /metrics counts the build the test just ran, in
Prometheus's text format."""

from __future__ import annotations

import asyncio
import re

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
