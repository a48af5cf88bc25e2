"""Prometheus metrics every process exposes at /metrics (the default registry).

Kafka consumption (received, processed, failed, handler duration per topic) comes
from FastStream's Prometheus middleware; the platform's own facts are counted here
by the code that knows them: dead letters, outbox backlog, builds, jobs, pushes and
HTTP requests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

DEAD_LETTERED = Counter(
    "segp_dead_lettered_total",
    "Messages a consumer group sent to the dead-letter topic.",
    ["topic", "consumer"],
)
# Several gateway workers drain one outbox: across them the gauge shows the largest.
OUTBOX_BACKLOG = Gauge(
    "segp_outbox_backlog",
    "Outbox rows not yet published, after the last drain.",
    ["service"],
    multiprocess_mode="max",
)
OUTBOX_AGE = Gauge(
    "segp_outbox_oldest_seconds",
    "Age of the oldest unpublished outbox row.",
    ["service"],
    multiprocess_mode="max",
)
BUILDS = Counter(
    "segp_build_changes_total", "Build state changes decided by the scheduler.", ["state"]
)
ANOMALIES = Counter(
    "segp_build_anomalies_total",
    "Committed builds whose size moved over the account's threshold, or that emptied.",
)
DELAYED_BUILDS = Counter(
    "segp_builds_delayed_total",
    "Builds that waited longer than expected, by why: a dependency, or a slow job.",
    ["kind"],
)
STUCK_BUILDS = Gauge(
    "segp_builds_redriven", "Builds the reconciler re-drove in its last pass.", ["kind"]
)
JOB_SECONDS = Histogram(
    "segp_job_duration_seconds",
    "Warehouse job durations, by outcome.",
    ["outcome"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800),
)
BYTES_BILLED = Counter("segp_bytes_billed_total", "Bytes the warehouse billed for build jobs.")
PUSHES = Counter("segp_pushes_total", "Pushes sent, by channel and event.", ["channel", "event"])
HTTP_SECONDS = Histogram(
    "segp_http_request_seconds",
    "Gateway request latency, by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def share_between_processes(name: str) -> Path:
    """Several server processes answer one /metrics: each writes its metrics to files in a
    directory they share (prometheus_client's multiprocess mode), emptied at start so a
    previous run's counts do not add in. Call before any metric is created."""
    directory = Path(tempfile.gettempdir()) / f"segp-metrics-{name}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(directory)
    return directory


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus's text format, and its content type: this process's
    registry, or every worker's together when they share a directory."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
