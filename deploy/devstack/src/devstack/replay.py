"""Dead letters you can act on: read them, choose them (by original topic, refusing
consumer, time), and send them back to their topic; or rewind one consumer group on a
topic partition so it reads a range again.

A replayed message keeps its id by default. The groups that took it the first time
recorded that id with their effect, so they skip it; the group that refused it
recorded nothing, so it takes it now: after the repair it is processed exactly once.
`new_ids=True` gives each a fresh id (and `ce_id`), for a message every group should
take again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from contracts.topics import DEAD_LETTER


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    body: bytes
    headers: dict[str, str]

    @property
    def topic(self) -> str:
        return self.headers.get("dl_topic", "")

    @property
    def consumer(self) -> str:
        return self.headers.get("dl_consumer", "")

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000).astimezone()


async def read_dead_letters(bootstrap: str) -> list[DeadLetter]:
    """Every dead letter on the topic now (no consumer group: it commits nothing)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [
            TopicPartition(DEAD_LETTER, p) for p in consumer.partitions_for_topic(DEAD_LETTER) or ()
        ]
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        letters: list[DeadLetter] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        while await behind():
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                letters += [
                    DeadLetter(
                        partition=tp.partition,
                        offset=r.offset,
                        timestamp_ms=r.timestamp,
                        key=r.key,
                        body=r.value or b"",
                        headers={k: v.decode(errors="replace") for k, v in r.headers},
                    )
                    for r in records
                ]
        return sorted(letters, key=lambda d: (d.timestamp_ms, d.partition, d.offset))
    finally:
        await consumer.stop()


def choose(
    letters: list[DeadLetter],
    *,
    topic: str | None = None,
    consumer: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[DeadLetter]:
    return [
        d
        for d in letters
        if (topic is None or d.topic == topic)
        and (consumer is None or d.consumer == consumer)
        and (since is None or d.at >= since)
        and (until is None or d.at <= until)
    ]


def _renewed(letter: DeadLetter, *, new_ids: bool) -> tuple[bytes, list[tuple[str, bytes]]]:
    body = letter.body
    headers = {k: v for k, v in letter.headers.items() if k.startswith("ce_")}
    if new_ids:
        try:
            envelope = json.loads(body)
            envelope["id"] = str(uuid4())
            body = json.dumps(envelope).encode()
            headers["ce_id"] = envelope["id"]
        except (ValueError, TypeError):
            pass  # a body that is not an envelope goes back as it was
    headers["content-type"] = "application/json"
    headers["replayed_from"] = f"{DEAD_LETTER}/{letter.partition}/{letter.offset}"
    return body, [(k, v.encode()) for k, v in headers.items()]


async def replay(bootstrap: str, letters: list[DeadLetter], *, new_ids: bool = False) -> int:
    """Send each letter back to the topic it came from, with its key; returns how many."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for letter in letters:
            if not letter.topic or letter.topic == DEAD_LETTER:
                continue
            body, headers = _renewed(letter, new_ids=new_ids)
            await producer.send_and_wait(letter.topic, body, key=letter.key, headers=headers)
    finally:
        await producer.stop()
    return len([d for d in letters if d.topic and d.topic != DEAD_LETTER])


async def rewind(bootstrap: str, topic: str, partition: int, offset: int, group: str) -> None:
    """Make one consumer group read `topic`'s partition again from `offset` (stop that
    group's service first: a running member would overwrite the commit). Its handlers
    skip the messages they already took, by id."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        await consumer.commit({tp: OffsetAndMetadata(offset, "")})
    finally:
        await consumer.stop()
