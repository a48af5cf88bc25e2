"""The platform's AsyncAPI 3 document, generated from the contracts: every topic with its
message, key, producers (publishing goes through the outbox, so no framework sees
it) and consumer groups, the dead-letter topic, and the realtime push channels.
`segctl docs` writes it; a test fails when the committed copy drifts."""

from __future__ import annotations

import json
from typing import Any

from contracts import push
from contracts.topics import DEAD_LETTER, TOPICS

ASYNCAPI_PATH = "contracts/schema/asyncapi.json"


def _hoist(schema: dict[str, Any], into: dict[str, Any]) -> dict[str, Any]:
    """A pydantic schema with its $defs moved to components, its refs rewritten."""
    for name, definition in schema.pop("$defs", {}).items():
        into.setdefault(name, definition)
    text = json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/')
    return dict(json.loads(text))


def _op_id(action: str, party: str, topic: str) -> str:
    words = [action, *party.replace("-", " ").split(), *topic.replace(".", " ").split()]
    return words[0] + "".join(w.capitalize() for w in words[1:])


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in TOPICS.values():
        name = topic.message.__name__
        schemas[name] = _hoist(topic.message.model_json_schema(), schemas)
        messages[name] = {
            "name": name,
            "title": topic.message.model_fields["type"].default,
            "summary": (topic.message.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {
                "kafka": {"key": {"type": "string", "description": "segment or account id"}}
            },
        }
        channels[topic.name] = {
            "address": topic.name,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"kafka": {"partitions": topic.partitions, "replicas": 1}},
        }
        ref = {"$ref": f"#/channels/{topic.name}"}
        message_ref = [{"$ref": f"#/channels/{topic.name}/messages/{name}"}]
        for producer in topic.producers:
            operations[_op_id("send", producer, topic.name)] = {
                "action": "send",
                "channel": ref,
                "messages": message_ref,
                "summary": f"{producer} publishes it, through its transactional outbox",
            }
        for consumer in topic.consumers:
            operations[_op_id("receive", consumer, topic.name)] = {
                "action": "receive",
                "channel": ref,
                "messages": message_ref,
                "summary": f"consumer group {consumer}.{topic.name}",
            }
    channels[DEAD_LETTER] = {
        "address": DEAD_LETTER,
        "description": "Messages a consumer group could not take: the body as received, its "
        "ce_* headers, and dl_topic, dl_partition, dl_offset, dl_consumer, dl_error.",
    }
    for status_or_change in (push.SegmentStatusPush, push.SegmentChangePush):
        name = status_or_change.__name__
        schemas[name] = _hoist(status_or_change.model_json_schema(), schemas)
        messages[name] = {
            "name": status_or_change.model_fields["event"].default,
            "summary": (status_or_change.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
        }
    push_messages = {
        m: {"$ref": f"#/components/messages/{m}"}
        for m in ("SegmentStatusPush", "SegmentChangePush")
    }
    channels["push.account"] = {
        "address": "private-account-{account}",
        "description": "Pusher: every push of the account, for users whose view is `all`.",
        "parameters": {"account": {"description": "The account id, 32 hex digits."}},
        "messages": push_messages,
    }
    channels["push.owner"] = {
        "address": "private-account-{account}-owner-{owner}",
        "description": "Pusher: pushes of one user's segments, for a user whose view is "
        "`owned` (GET /v1/realtime/channel names it; POST /v1/realtime/pusher/auth signs it).",
        "parameters": {
            "account": {"description": "The account id, 32 hex digits."},
            "owner": {"description": "sha256 of the user id, first 32 hex digits."},
        },
        "messages": push_messages,
    }
    for channel in ("push.account", "push.owner"):
        operations[_op_id("send", "notifier", channel)] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in push_messages],
            "summary": "the notifier pushes each status and metadata change once",
        }
    return _refs_to_components(
        {
            "asyncapi": "3.0.0",
            "info": {
                "title": "Segment platform events",
                "version": "1.0.0",
                "description": "Facts (past tense, any number of consumers) and commands (one "
                "handler) on Kafka, and the pushes browsers receive.",
            },
            "defaultContentType": "application/json",
            "servers": {
                "local": {
                    "host": "127.0.0.1:19092",
                    "protocol": "kafka",
                    "description": "./deploy/up",
                }
            },
            "channels": channels,
            "operations": operations,
            "components": {"messages": messages, "schemas": schemas},
        }
    )


def asyncapi_json() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def _refs_to_components(doc: dict[str, Any]) -> dict[str, Any]:
    """Definitions hoisted from different models still point at their own $defs."""
    text = json.dumps(doc).replace('"#/$defs/', '"#/components/schemas/')
    return dict(json.loads(text))
