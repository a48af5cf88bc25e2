"""Tails a topic as JSON lines: what operators use to see what flows."""

from __future__ import annotations

import json
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


def _decode(value: bytes | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return value.decode(errors="replace")


async def tail(
    bootstrap: str,
    topic: str,
    *,
    from_beginning: bool,
    limit: int | None,
    idle_timeout_s: float | None,
) -> int:
    """Print each record as one JSON object; no consumer group, so nothing is committed."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    printed = 0
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            raise SystemExit(f"no such topic: {topic}")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        if from_beginning:
            await consumer.seek_to_beginning(*assigned)
        else:
            await consumer.seek_to_end(*assigned)
        while limit is None or printed < limit:
            timeout_ms = int(idle_timeout_s * 1000) if idle_timeout_s else 1000
            batch = await consumer.getmany(timeout_ms=timeout_ms)
            if not batch and idle_timeout_s:
                break
            for records in batch.values():
                for r in records:
                    line = {
                        "topic": r.topic,
                        "partition": r.partition,
                        "offset": r.offset,
                        "key": r.key.decode(errors="replace") if r.key else None,
                        "headers": {k: v.decode(errors="replace") for k, v in r.headers},
                        "value": _decode(r.value),
                    }
                    sys.stdout.write(json.dumps(line) + "\n")
                    sys.stdout.flush()
                    printed += 1
                    if limit is not None and printed >= limit:
                        return printed
    finally:
        await consumer.stop()
    return printed
