"""Kafka wiring every service shares: broker, topics, publishing, dead letters.

Delivery is at-least-once (the local broker has no idempotent producer or
transactions), so publishers go through the outbox and consumers record the ids
they processed. A message that can never be processed (it does not parse, or
its content is invalid) is a poison message: it goes to the dead-letter topic
with where it came from, and the consumer carries on. Any other error nacks the
message so it is delivered again, within a retry budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import uuid4

import asyncpg
import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from prometheus_client import REGISTRY
from pydantic import ValidationError
from tenacity import retry, stop_after_delay, wait_exponential

from contracts.messages import AnyMessage
from contracts.topics import DEAD_LETTER, TOPICS, topic_for
from segment_runtime.correlation import correlated, message_context
from segment_runtime.metrics import DEAD_LETTERED

log = structlog.get_logger(__name__)

JSON_HEADERS = {"content-type": "application/json"}
# A platform message is a few KB; anything near the broker's 1 MB default is not one of ours.
MAX_MESSAGE_BYTES = 512 * 1024
# What a dead letter keeps of an oversized body (enough to see what it was).
DEAD_LETTER_BODY_BYTES = 64 * 1024
# A handler error that is not poison is retried this many times, with a capped growing pause,
# then the message goes to the dead letters with its cause and the partition moves on.
RETRY_BUDGET = 8
FIRST_RETRY_PAUSE_S = 0.5
MAX_RETRY_PAUSE_S = 15.0


class PoisonMessageError(Exception):
    """Raised by a handler for a message that can never succeed (bad content)."""


# Content that can never be processed, however often it is delivered.
POISON: tuple[type[Exception], ...] = (
    PoisonMessageError,
    ValidationError,
    # Bytes no decoder can take: bad JSON or UTF-8 (both ValueErrors), a number past
    # Python's digit limit (ValueError), nesting deeper than the stack (RecursionError).
    ValueError,
    RecursionError,
    OverflowError,
    asyncpg.IntegrityConstraintViolationError,  # e.g. a job for an account that does not exist
    asyncpg.DataError,
)


def message_headers(message_type: str, message_id: str) -> dict[str, str]:
    return {**JSON_HEADERS, "ce_type": message_type, "ce_id": message_id}


def retry_pause(attempt: int) -> float:
    return float(min(MAX_RETRY_PAUSE_S, FIRST_RETRY_PAUSE_S * 2 ** max(attempt - 1, 0)))


def dead_letter_middleware(
    broker: Callable[[], KafkaBroker], consumer: str
) -> type[BaseMiddleware]:
    """A consumer middleware sending poison, oversized and hopeless messages to the dead
    letters (with where they came from, who refused them and why), so a partition never
    stalls behind one record."""
    attempts: dict[tuple[str, int, int], int] = {}

    async def dead_letter(msg: StreamMessage[Any], why: str) -> None:
        record = msg.raw_message
        where = {
            "topic": str(getattr(record, "topic", "")),
            "partition": str(getattr(record, "partition", "")),
            "offset": str(getattr(record, "offset", "")),
        }
        # An expected outcome, not a crash: no traceback.
        log.error("dead_lettered", error=why[:500], consumer=consumer, **where)
        if where["topic"] == DEAD_LETTER:
            return  # never feed the dead-letter topic to itself
        body = msg.body
        # The original CloudEvents headers travel along (a replay needs them); its content
        # type does not, since a dead letter's body may be anything.
        headers = {
            k: v.decode(errors="replace") if isinstance(v, bytes) else str(v)
            for k, v in (getattr(record, "headers", None) or [])
            if k.startswith("ce_")
        }
        if len(body) > DEAD_LETTER_BODY_BYTES:
            headers["dl_truncated_from"] = str(len(body))
            body = body[:DEAD_LETTER_BODY_BYTES]
        DEAD_LETTERED.labels(topic=where.get("topic", ""), consumer=consumer).inc()
        await broker().publish(
            body,
            DEAD_LETTER,
            key=getattr(record, "key", None),
            headers={
                **headers,
                "dl_error": why[:2000],
                "dl_consumer": consumer,
                **{f"dl_{k}": v for k, v in where.items()},
            },
        )

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(
            self, call_next: Callable[[StreamMessage[Any]], Any], msg: StreamMessage[Any]
        ) -> Any:
            record = msg.raw_message
            key = (
                str(getattr(record, "topic", "")),
                int(getattr(record, "partition", -1)),
                int(getattr(record, "offset", -1)),
            )
            if len(msg.body) > MAX_MESSAGE_BYTES:
                await dead_letter(
                    msg, f"oversized: {len(msg.body)} bytes > {MAX_MESSAGE_BYTES} allowed"
                )
                return None
            try:
                # Inside the guard: whatever the bytes do to the envelope reader, the record
                # is judged here and never escapes to be redelivered for ever.
                cid, context = message_context(msg.body)
                with correlated(cid or uuid4(), **context):
                    result = await call_next(msg)
            except POISON as exc:
                attempts.pop(key, None)
                await dead_letter(msg, f"{type(exc).__name__}: {exc}")
                return None
            except Exception as exc:
                attempt = attempts.get(key, 0) + 1
                if attempt >= RETRY_BUDGET:
                    attempts.pop(key, None)
                    log.exception("handler_failed_giving_up", consumer=consumer, attempt=attempt)
                    await dead_letter(
                        msg, f"retry budget of {RETRY_BUDGET} spent: {type(exc).__name__}: {exc}"
                    )
                    return None
                attempts[key] = attempt
                log.exception("handler_failed_will_redeliver", consumer=consumer, attempt=attempt)
                await asyncio.sleep(retry_pause(attempt))
                raise
            attempts.pop(key, None)
            return result

    return DeadLetterMiddleware


def make_broker(bootstrap: str, client_id: str) -> KafkaBroker:
    holder: list[KafkaBroker] = []
    broker = KafkaBroker(
        bootstrap,
        client_id=client_id,
        enable_idempotence=False,  # not supported by the local broker; the outbox covers it
        # Topics re-created after a broker restart are seen within seconds, not minutes.
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
        middlewares=[
            KafkaPrometheusMiddleware(registry=REGISTRY, app_name=client_id),
            dead_letter_middleware(lambda: holder[0], client_id),
        ],
        # A plain logger: its lines reach the root handler and render as JSON like all.
        logger=logging.getLogger(f"faststream.{client_id}"),
    )
    holder.append(broker)
    return broker


async def publish_message(broker: KafkaBroker, message: AnyMessage) -> None:
    topic = topic_for(message)
    await broker.publish(
        message.model_dump_json().encode(),
        topic.name,
        key=topic.key(message).encode(),
        headers=message_headers(message.type, str(message.id)),
    )


async def create_missing_topics(bootstrap: str) -> list[str]:
    """Create the platform's topics if missing, once; returns the names it had to create."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, TOPICS[name].partitions if name in TOPICS else 1, 1)
            for name in (*TOPICS, DEAD_LETTER)
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service won the race
                await admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        await admin.close()


@retry(wait=wait_exponential(multiplier=0.2, max=3), stop=stop_after_delay(60), reraise=True)
async def ensure_topics(bootstrap: str) -> list[str]:
    """Create the platform's topics if missing (idempotent; every service calls it at start,
    trying for a minute). Returns the names it had to create."""
    return await create_missing_topics(bootstrap)


async def watch_topics(
    bootstrap: str, every_s: float = 1.0, on_recreated: Callable[[], None] | None = None
) -> None:
    """The local broker forgets its topics when it restarts; put them back at once, so
    publishers and consumers carry on without a restart of their own, and say so
    (`on_recreated`): what was in flight on the broker is gone. Whichever service looks
    first recreates the topics, so each one also counts a broker it could not reach as
    restarted once it answers again (re-driving after a mere outage is harmless)."""
    unreachable = False
    while True:
        await asyncio.sleep(every_s)
        try:
            created = await create_missing_topics(bootstrap)
        except Exception as exc:  # the broker is away: look again next time
            if not unreachable:
                log.warning("broker_unreachable", error=repr(exc))
            unreachable = True
            continue
        if created:
            log.warning("topics_recreated", topics=created)
        if (created or unreachable) and on_recreated is not None:
            on_recreated()
        unreachable = False


async def watch_consumers(broker: KafkaBroker, stuck_s: float = 15.0, every_s: float = 2.0) -> None:
    """Restart a subscriber whose consumer has held no partition for `stuck_s`.

    A consumer that was joining its group when the broker went away can stay out of
    the group for good (seen with aiokafka against the local broker); starting the
    subscriber again makes it join afresh. With one instance per service every
    subscriber owns its topic's partitions, so an empty assignment is never normal.
    (Run more instances than a topic has partitions and the spare ones will be
    restarted now and then: harmless, but a reason to size partitions.)
    """
    idle_since: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(every_s)
        for subscriber in list(broker.subscribers):
            consumer = getattr(subscriber, "consumer", None)
            key = id(subscriber)
            if consumer is None or consumer.assignment():
                idle_since.pop(key, None)
                continue
            since = idle_since.setdefault(key, loop.time())
            if loop.time() - since < stuck_s:
                continue
            log.warning("consumer_restarted", group=getattr(subscriber, "group_id", None))
            idle_since.pop(key, None)
            await subscriber.stop()
            await subscriber.start()


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[None]])


METADATA_MAX_AGE_MS = 3000
# A killed consumer is noticed after this long, and its partitions go to the others.
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 1500
# How long a rebalance waits for the group's members to rejoin. aiokafka's default is the
# max poll interval (5 min): a join behind a member killed with -9 could wait that long.
REBALANCE_TIMEOUT_MS = 10000


def consumer_group(group: str, topic: str) -> str:
    """One group per service and topic: a subscriber joining or leaving rebalances only its
    own topic's partitions, never the service's other subscriptions."""
    return f"{group}.{topic}"


def subscribe(broker: KafkaBroker, topic: str, group_id: str) -> Callable[[Handler], Handler]:
    """The one way services subscribe: a named group, explicit acks, from the start.

    NACK_ON_ERROR: a handler error seeks back so the message is delivered again
    (the default policy would commit it and lose it); poison messages never reach
    that point because the dead-letter middleware answers them.
    """
    decorator = broker.subscriber(
        topic,
        group_id=consumer_group(group_id, topic),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
        rebalance_timeout_ms=REBALANCE_TIMEOUT_MS,
    )

    def register(handler: Handler) -> Handler:
        decorator(handler)
        return handler

    return register
