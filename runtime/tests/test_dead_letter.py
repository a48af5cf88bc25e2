"""Poison messages go to the dead-letter topic; other failures are redelivered."""

from __future__ import annotations

import contextlib
from uuid import uuid4

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from contracts.messages import ChangeKind, SegmentChanged, SegmentChangedData
from contracts.topics import DEAD_LETTER, SEGMENT_CHANGED, TOPICS
from segment_runtime.kafka import PoisonMessageError, make_broker, publish_message, subscribe


def valid_message() -> SegmentChanged:
    return SegmentChanged(
        source="test",
        accountid=uuid4(),
        correlationid=uuid4(),
        data=SegmentChangedData(segment_id=uuid4(), change=ChangeKind.CREATED, rules_version=1),
    )


@pytest.fixture
def wiring():
    broker = make_broker("127.0.0.1:1", "test")
    handled: list[SegmentChanged] = []
    dead: list[tuple[bytes, dict[str, str]]] = []

    @subscribe(broker, SEGMENT_CHANGED, "test-group")
    async def handler(event: SegmentChanged) -> None:
        if event.data.rules_version == 99:
            raise PoisonMessageError("version 99 can never be built")
        handled.append(event)

    @broker.subscriber(DEAD_LETTER)
    async def dead_letters(message: KafkaMessage) -> None:
        dead.append((message.body, dict(message.headers)))

    return broker, handled, dead


async def test_a_message_that_does_not_parse_is_dead_lettered_and_the_next_one_handled(wiring):
    broker, handled, dead = wiring
    async with TestKafkaBroker(broker) as br:
        await br.publish(
            b"{not json", SEGMENT_CHANGED, headers={"content-type": "application/json"}
        )
        await br.publish({"type": "segment.changed", "data": {}}, SEGMENT_CHANGED)
        good = valid_message()
        await publish_message(br, good)
    assert [m.id for m in handled] == [good.id]
    assert len(dead) == 2
    body, headers = dead[1]
    assert b"segment.changed" in body
    assert headers["dl_topic"] == SEGMENT_CHANGED
    assert "ValidationError" in headers["dl_error"]
    assert {"dl_partition", "dl_offset"} <= headers.keys()


async def test_a_handler_can_declare_a_message_poison(wiring):
    broker, handled, dead = wiring
    bad = valid_message().model_copy(
        update={
            "data": SegmentChangedData(
                segment_id=uuid4(), change=ChangeKind.CREATED, rules_version=99
            )
        }
    )
    async with TestKafkaBroker(broker) as br:
        await publish_message(br, bad)
    assert handled == []
    assert len(dead) == 1
    assert "PoisonMessageError" in dead[0][1]["dl_error"]


async def test_the_dead_letter_topic_never_feeds_itself():
    broker = make_broker("127.0.0.1:1", "test")
    seen: list[bytes] = []

    @subscribe(broker, DEAD_LETTER, "operator-tool")
    async def strict(event: SegmentChanged) -> None:
        seen.append(b"parsed")

    async with TestKafkaBroker(broker) as br:
        await br.publish(b"{broken", DEAD_LETTER)
    assert seen == []  # refused once, not re-published into the topic it came from


async def test_an_oversized_record_is_dead_lettered_truncated_and_never_handled(wiring):
    from segment_runtime.kafka import DEAD_LETTER_BODY_BYTES, MAX_MESSAGE_BYTES

    broker, handled, dead = wiring
    huge = b'{"type": "segment.changed", "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    async with TestKafkaBroker(broker) as br:
        await br.publish(huge, SEGMENT_CHANGED, headers={"ce_id": "abc", "ce_type": "t"})
        good = valid_message()
        await publish_message(br, good)
    assert [m.id for m in handled] == [good.id]  # the partition moved on
    ((body, headers),) = dead
    assert len(body) == DEAD_LETTER_BODY_BYTES
    assert headers["dl_truncated_from"] == str(len(huge))
    assert headers["dl_error"].startswith(f"oversized: {len(huge)} bytes > {MAX_MESSAGE_BYTES}")
    assert headers["ce_id"] == "abc" and headers["dl_consumer"] == "test"


async def test_a_failure_that_is_not_poison_is_retried_within_a_budget_then_dead_lettered(
    monkeypatch,
):
    from segment_runtime import kafka

    monkeypatch.setattr(kafka, "retry_pause", lambda attempt: 0.0)
    broker = make_broker("127.0.0.1:1", "test")
    attempts: list[int] = []
    dead: list[dict[str, str]] = []

    @subscribe(broker, SEGMENT_CHANGED, "test-group")
    async def flaky(event: SegmentChanged) -> None:
        attempts.append(1)
        raise ConnectionError("the database is away")

    @broker.subscriber(DEAD_LETTER)
    async def dead_letters(message: KafkaMessage) -> None:
        dead.append(dict(message.headers))

    message = valid_message()
    async with TestKafkaBroker(broker) as br:
        # The test broker does not redeliver: each publish stands for one delivery of
        # the same record (same topic, partition and offset).
        for _ in range(kafka.RETRY_BUDGET):
            with contextlib.suppress(ConnectionError):
                await publish_message(br, message)
    assert len(attempts) == kafka.RETRY_BUDGET
    (letter,) = dead
    assert letter["dl_error"] == (
        f"retry budget of {kafka.RETRY_BUDGET} spent: ConnectionError: the database is away"
    )


def test_content_the_database_refuses_is_poison():
    import asyncpg

    from segment_runtime.kafka import POISON

    # e.g. a job.submitted for an account that does not exist: retrying cannot help
    assert issubclass(asyncpg.ForeignKeyViolationError, POISON)
    assert not issubclass(ConnectionError, POISON)


def test_the_retry_pause_grows_and_is_capped():
    from segment_runtime.kafka import MAX_RETRY_PAUSE_S, retry_pause

    assert [retry_pause(n) for n in range(1, 8)] == [
        0.5,
        1,
        2,
        4,
        8,
        MAX_RETRY_PAUSE_S,
        MAX_RETRY_PAUSE_S,
    ]


DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE_NUMBER = b'{"type": "segment.changed", "data": {"rules_version": ' + b"9" * 5000 + b"}}"
BAD_UTF8 = b'{"type": "segment.changed", "data": "\xff\xfe"}'
DEEP_ENVELOPE = b'{"correlationid": "' + str(uuid4()).encode() + b'", "data": ' + DEEP + b"}"


@pytest.mark.parametrize(
    "body",
    [DEEP, DEEP_ENVELOPE, HUGE_NUMBER, BAD_UTF8],
    ids=["deep-array", "deep-in-envelope", "huge-number", "invalid-utf8"],
)
@pytest.mark.parametrize("topic", sorted(TOPICS))
async def test_poison_of_every_shape_is_dead_lettered_on_every_topic(topic, body):
    broker = make_broker("127.0.0.1:1", "test")
    model = TOPICS[topic].message
    handled: list[object] = []
    dead: list[dict[str, str]] = []

    @subscribe(broker, topic, "test-group")
    async def handler(event: model) -> None:  # type: ignore[valid-type]
        handled.append(event)

    @broker.subscriber(DEAD_LETTER)
    async def dead_letters(message: KafkaMessage) -> None:
        dead.append(dict(message.headers))

    async with TestKafkaBroker(broker) as br:
        # No exception reaches the publisher: the middleware judged the record.
        await br.publish(body, topic, headers={"content-type": "application/json"})
    assert handled == []
    (letter,) = dead
    assert letter["dl_topic"] == topic
    assert letter["dl_error"].split(":")[0] in {
        "RecursionError",
        "ValidationError",
        "ValueError",
        "JSONDecodeError",
        "UnicodeDecodeError",
    }
