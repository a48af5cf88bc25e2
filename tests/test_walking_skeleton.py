"""End to end over the real stack: HTTP → Kafka → BigQuery → Postgres → Pusher/websocket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from websockets.asyncio.client import connect

from contracts.topics import DEAD_LETTER, SEGMENT_CHANGED
from contracts.warehouse import dataset_id, segment_table
from e2e import create, next_status, pusher_client, wait_for

pytestmark = pytest.mark.stack
DEADLINE_S = 120

RULES = {
    "object": "customer",
    "root": {
        "type": "group",
        "combinator": "and",
        "rules": [
            {"type": "property", "field": "age", "operator": "gt", "value": 30},
            {
                "type": "group",
                "combinator": "or",
                "rules": [
                    {"type": "property", "field": "city", "operator": "equals", "value": "Jakarta"},
                    {
                        "type": "property",
                        "field": "source",
                        "operator": "in_list",
                        "value": ["whatsapp", "referral"],
                    },
                ],
            },
            {
                "type": "group",
                "negate": True,
                "rules": [{"type": "property", "field": "is_vip", "operator": "is_true"}],
            },
        ],
    },
}


def rule_in_plain_python(row: dict[str, Any]) -> bool:
    """The same rule, written independently of the compiler (text compares ignore case)."""
    adult = row["age"] is not None and row["age"] > 30
    city = (row["city"] or "").lower() == "jakarta"
    source = (row["source"] or "").lower() in {"whatsapp", "referral"}
    return adult and (city or source) and row["is_vip"] is not True


async def test_a_created_segment_is_built_exactly_and_announced(stack, expected_members):
    ws_url = f"ws://127.0.0.1:{stack.cfg.notifier_port}/v1/ws?access_token={stack.token()}"
    pushers = pusher_client(stack)
    pusher = await anext(pushers)
    async with connect(ws_url) as socket:
        await asyncio.sleep(0.5)  # the notifier registers the socket after the handshake
        segment = await create(stack, "Adults in Jakarta or chatty, not VIP", RULES)
        via_pusher, via_socket = await asyncio.wait_for(
            asyncio.gather(
                next_status(pusher, segment["id"], "done", pusher=True),
                next_status(socket, segment["id"], "done", pusher=False),
            ),
            DEADLINE_S,
        )
    await pushers.aclose()

    expected = expected_members(rule_in_plain_python)
    assert 0 < len(expected) < len(stack.customers)  # the rule really discriminates
    table = (
        f"{stack.cfg.bigquery_project}.{dataset_id(stack.account_id)}."
        f"{segment_table(__import__('uuid').UUID(segment['id']))}"
    )
    members = {
        row["object_id"]
        for row in stack.bigquery().query(f"SELECT object_id FROM `{table}`").result()
    }
    assert members == expected
    assert via_pusher["member_count"] == via_socket["member_count"] == len(expected)

    async with httpx.AsyncClient() as http:
        shown = (
            await http.get(f"{stack.api}/v1/segments/{segment['id']}", headers=stack.headers())
        ).json()
    assert shown["build_status"] == "done"
    assert shown["member_count"] == len(expected)
    assert shown["built_at"] is not None


async def test_a_poison_message_is_dead_lettered_and_consumers_carry_on(stack, expected_members):
    producer = AIOKafkaProducer(bootstrap_servers=stack.cfg.kafka_bootstrap)
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            SEGMENT_CHANGED,
            b'{"type": "segment.changed"',
            key=b"poison",
            headers=[("content-type", b"application/json")],
        )
    finally:
        await producer.stop()

    segment = await create(
        stack,
        "Everyone over 60",
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": "age", "operator": "gte", "value": 60}],
            },
        },
    )
    shown = await settled_members(stack, segment["id"])
    assert shown["member_count"] == len(
        expected_members(lambda r: r["age"] is not None and r["age"] >= 60)
    )

    letters = await dead_letters(stack, b"poison")
    # each group consuming segment.changed dead-letters it once, and says it was the one
    refused_by = []
    for letter in letters:
        headers = {k: v.decode() for k, v in letter.headers}
        assert headers["dl_topic"] == SEGMENT_CHANGED
        assert headers["dl_offset"] == str(sent.offset)
        assert headers["dl_partition"] == str(sent.partition)
        refused_by.append(headers["dl_consumer"])
    assert sorted(refused_by) == ["compiler", "notifier", "scheduler"]


SERVICES = {"compiler", "scheduler", "notifier", "job-monitor"}


async def test_deeply_nested_records_on_every_topic_are_dead_lettered_by_every_group(
    stack, expected_members
):
    """A 100,000-deep JSON array once stalled partitions for good (the envelope reader ran
    outside the middleware's guard). Sent to every partition of every topic, it is
    dead-lettered once by each consuming service, and a later segment still builds."""
    from contracts.topics import TOPICS

    deep = b"[" * 100_000 + b"]" * 100_000
    tag = f"deep-{uuid4().hex}".encode()
    sent: dict[tuple[str, int], int] = {}
    producer = AIOKafkaProducer(bootstrap_servers=stack.cfg.kafka_bootstrap)
    await producer.start()
    try:
        for topic in TOPICS:
            for partition in sorted(await producer.partitions_for(topic)):
                meta = await producer.send_and_wait(
                    topic,
                    deep,
                    key=tag,
                    partition=partition,
                    headers=[("content-type", b"application/json")],
                )
                sent[(topic, partition)] = meta.offset
    finally:
        await producer.stop()

    segment = await create(
        stack,
        "Everyone over 50 after the deep records",
        {
            "object": "customer",
            "root": {
                "type": "group",
                "rules": [{"type": "property", "field": "age", "operator": "gte", "value": 50}],
            },
        },
    )
    shown = await settled_members(stack, segment["id"])
    assert shown["build_status"] == "done"
    assert shown["member_count"] == len(
        expected_members(lambda r: r["age"] is not None and r["age"] >= 50)
    )

    expected = {
        where: consumers
        for where in sent
        if (consumers := sorted(set(TOPICS[where[0]].consumers) & SERVICES))
    }

    async def refusals() -> dict[tuple[str, int], list[str]]:
        refused: dict[tuple[str, int], list[str]] = {}
        for letter in await dead_letters(stack, tag):
            headers = {k: v.decode() for k, v in letter.headers}
            where = (headers["dl_topic"], int(headers["dl_partition"]))
            assert headers["dl_offset"] == str(sent[where])
            # The cause is named: the stack's own depth (RecursionError) or a parser's limit.
            assert headers["dl_error"].split(":")[0] in {"RecursionError", "JSONDecodeError"}
            refused.setdefault(where, []).append(headers["dl_consumer"])
        return {where: sorted(names) for where, names in refused.items()}

    # A group reaches a partition's poison when it next reads there: wait for the last one.
    with contextlib.suppress(TimeoutError):
        await wait_for(lambda: _same(refusals, expected), timeout_s=30)
    assert await refusals() == expected


async def _same(read: Any, expected: dict[tuple[str, int], list[str]]) -> bool:
    return bool(await read() == expected)


async def settled_members(stack, segment_id: str) -> dict[str, Any]:
    """The segment as shown once its build is done (or as it stands at the deadline)."""
    async with httpx.AsyncClient() as http:
        for _ in range(DEADLINE_S * 2):
            shown = (
                await http.get(f"{stack.api}/v1/segments/{segment_id}", headers=stack.headers())
            ).json()
            if shown["build_status"] == "done":
                break
            await asyncio.sleep(0.5)
    return dict(shown)


async def dead_letters(stack, key: bytes) -> list[Any]:
    """The dead letters sent with `key`: the whole topic, up to its end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.cfg.kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    found: list[Any] = []
    try:
        part = TopicPartition(DEAD_LETTER, 0)
        consumer.assign([part])
        end = (await consumer.end_offsets([part]))[part]
        await consumer.seek_to_beginning(part)
        while await consumer.position(part) < end:
            records = await consumer.getmany(part, timeout_ms=2000)
            if not records:
                break
            found += [r for batch in records.values() for r in batch if r.key == key]
    finally:
        await consumer.stop()
    return found
