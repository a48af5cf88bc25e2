"""Every process logs one JSON object per line, its own lines and those of the libraries
it runs (uvicorn, FastStream, aiokafka) alike, with the context bound for the task."""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from uuid import uuid4

import structlog

from segment_runtime.logs import bind, configure_logging


class State(StrEnum):
    DONE = "done"


def _boom() -> None:
    raise ValueError("boom")


def test_own_and_library_lines_are_json_with_the_bound_context(capsys):
    log = configure_logging("INFO", "tester")
    segment = uuid4()
    bind(correlation_id="c-1", segment_id=segment)
    try:
        log.info("built", state=State.DONE)
        logging.getLogger("uvicorn.error").warning("library says %s", "hi")
        logging.getLogger("faststream.tester").info("consumer started")
        try:
            _boom()
        except ValueError:
            log.exception("failed")
    finally:
        structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert [line["event"] for line in lines] == [
        "built",
        "library says hi",
        "consumer started",
        "failed",
    ]
    for line in lines:
        assert line["service"] == "tester"
        assert line["correlation_id"] == "c-1"
        assert line["segment_id"] == str(segment)
        assert line["time"].endswith("Z")
    assert lines[0]["state"] == "done"  # the value, not the enum's repr
    assert lines[1]["level"] == "warning"
    assert "ValueError: boom" in lines[3]["exception"]
