"""One logging setup for every process: a JSON object per line, on stderr.

structlog's own loggers and the standard library's (uvicorn, FastStream, aiokafka)
go through the same processors, so every line carries the service, the time, the
level and whatever the context holds: the correlation id of the request or message
being handled, and the account, segment and build it concerns.
"""

from __future__ import annotations

import logging
import os
import sys
from enum import Enum
from typing import Any
from uuid import UUID

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from segment_runtime.correlation import add_correlation_id

# Loggers that bring their own handlers (FastStream's is coloured): theirs are removed so
# their lines reach the root handler, and render like every other.
_FOREIGN = ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "aiokafka")


def _plain(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Enums and ids as their values (`done`, not `<BuildStatus.DONE: 'done'>`)."""
    for key, value in event.items():
        if isinstance(value, Enum):
            event[key] = value.value
        elif isinstance(value, UUID):
            event[key] = str(value)
    return event


SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    add_correlation_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    structlog.processors.format_exc_info,
    _plain,
]


def json_formatter() -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(default=str),
        ],
    )


def configure_logging(level: str, service: str) -> structlog.stdlib.BoundLogger:
    numeric = logging.getLevelName(level.upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)
    for name in _FOREIGN:
        foreign = logging.getLogger(name)
        foreign.handlers = []
        foreign.propagate = True
    # The Kafka client narrates every rebalance at INFO; its warnings are what matter.
    kafka_level = os.environ.get("KAFKA_CLIENT_LOG_LEVEL", "WARNING").upper()
    logging.getLogger("aiokafka").setLevel(max(logging.getLevelName(kafka_level), numeric))
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(service)
    return logger


def bind(**values: Any) -> None:
    """Add to what every following line of this task says (correlation id, segment...)."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})
