"""Kafka wiring every service shares: broker, topics, publishing, dead letters.

Delivery is at-least-once (the local broker has no idempotent producer or
transactions), so publishers go through the outbox and consumers record the ids
they processed. A message that can never be processed (it does not parse, or
its content is invalid) is a poison message: it goes to the dead-letter topic
with where it came from, and the consumer carries on. Any other error nacks the
message so it is delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from pydantic import ValidationError
from tenacity import retry, stop_after_delay, wait_exponential

from contracts.messages import AnyMessage
from contracts.topics import DEAD_LETTER, TOPICS, topic_for

log = structlog.get_logger(__name__)

JSON_HEADERS = {"content-type": "application/json"}
# Wait before a failed message is delivered again, so a broken dependency is not hammered.
REDELIVERY_PAUSE_S = 1.0


class PoisonMessageError(Exception):
    """Raised by a handler for a message that can never succeed (bad content)."""


def message_headers(message_type: str, message_id: str) -> dict[str, str]:
    return {**JSON_HEADERS, "ce_type": message_type, "ce_id": message_id}


def dead_letter_middleware(broker: Callable[[], KafkaBroker]) -> type[BaseMiddleware]:
    """A consumer middleware sending poison messages to the dead-letter topic."""

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(
            self, call_next: Callable[[StreamMessage[Any]], Any], msg: StreamMessage[Any]
        ) -> Any:
            try:
                return await call_next(msg)
            except (
                ValidationError,
                PoisonMessageError,
                json.JSONDecodeError,
                UnicodeDecodeError,
            ) as exc:
                record = msg.raw_message
                where = {
                    "topic": str(getattr(record, "topic", "")),
                    "partition": str(getattr(record, "partition", "")),
                    "offset": str(getattr(record, "offset", "")),
                }
                # An expected outcome, not a crash: no traceback.
                log.error("poison_message", error=str(exc)[:500], **where)  # noqa: TRY400
                if where["topic"] == DEAD_LETTER:
                    return None  # never feed the dead-letter topic to itself
                await broker().publish(
                    msg.body,
                    DEAD_LETTER,
                    key=getattr(record, "key", None),
                    headers={
                        "dl_error": f"{type(exc).__name__}: {exc}"[:2000],
                        **{f"dl_{k}": v for k, v in where.items()},
                    },
                )
                return None
            except Exception:
                log.exception("handler_failed_will_redeliver")
                await asyncio.sleep(REDELIVERY_PAUSE_S)
                raise

    return DeadLetterMiddleware


def make_broker(bootstrap: str, client_id: str) -> KafkaBroker:
    holder: list[KafkaBroker] = []
    broker = KafkaBroker(
        bootstrap,
        client_id=client_id,
        enable_idempotence=False,  # not supported by the local broker; the outbox covers it
        middlewares=[dead_letter_middleware(lambda: holder[0])],
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


@retry(wait=wait_exponential(multiplier=0.2, max=3), stop=stop_after_delay(60), reraise=True)
async def ensure_topics(bootstrap: str) -> None:
    """Create the platform's topics if missing (idempotent; every service calls it)."""
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
    finally:
        await admin.close()


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[None]])


def subscribe(broker: KafkaBroker, topic: str, group_id: str) -> Callable[[Handler], Handler]:
    """The one way services subscribe: a named group, explicit acks, from the start.

    NACK_ON_ERROR: a handler error seeks back so the message is delivered again
    (the default policy would commit it and lose it); poison messages never reach
    that point because the dead-letter middleware answers them.
    """
    decorator = broker.subscriber(
        topic, group_id=group_id, ack_policy=AckPolicy.NACK_ON_ERROR, auto_offset_reset="earliest"
    )

    def register(handler: Handler) -> Handler:
        decorator(handler)
        return handler

    return register
