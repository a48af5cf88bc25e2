"""The Grafana dashboard asks only for metrics the services export: a renamed metric
fails here, not as an empty panel in production."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

import segment_runtime.metrics as platform

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = json.loads((ROOT / "deploy" / "grafana" / "segment-platform.json").read_text())
# FastStream's Prometheus middleware (faststream/prometheus/container.py)
FASTSTREAM = {
    "faststream_received_messages_total",
    "faststream_received_messages_size_bytes",
    "faststream_received_messages_in_process",
    "faststream_received_processed_messages_total",
    "faststream_received_processed_messages_duration_seconds",
    "faststream_received_processed_messages_exceptions_total",
    "faststream_published_messages_total",
    "faststream_published_messages_duration_seconds",
    "faststream_published_messages_exceptions_total",
}


def exported() -> set[str]:
    names = set(FASTSTREAM)
    for value in vars(platform).values():
        if isinstance(value, MetricWrapperBase):
            for metric in value.collect():
                names.add(metric.name)
                names |= {s.name for s in metric.samples}
    return names


def test_every_panel_queries_an_exported_metric():
    known = exported()
    for suffix in ("_bucket", "_count", "_sum", "_total"):  # series Prometheus derives
        known |= {n + suffix for n in known}
    used = set()
    for panel in DASHBOARD["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\b(?:segp|faststream)_\w+", target["expr"]))
    assert used, "the dashboard queries nothing"
    assert used <= known, sorted(used - known)
    # and every platform metric has a panel
    bases = {
        metric.name
        for value in vars(platform).values()
        if isinstance(value, MetricWrapperBase)
        for metric in value.collect()
    }
    unshown = {b for b in bases if not any(u.startswith(b) for u in used)}
    assert unshown == set(), unshown
