"""One logging setup for every process: structured key=value lines."""

from __future__ import annotations

import logging
import os

import structlog


def configure_logging(level: str, service: str) -> structlog.stdlib.BoundLogger:
    logging.basicConfig(level=level.upper(), format="%(message)s")
    # The Kafka client narrates every rebalance at INFO; its warnings are what matter.
    kafka_level = os.environ.get("KAFKA_CLIENT_LOG_LEVEL", "WARNING").upper()
    logging.getLogger("aiokafka").setLevel(
        max(logging.getLevelName(kafka_level), logging.getLevelName(level.upper()))
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"]),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(service)
    return logger
