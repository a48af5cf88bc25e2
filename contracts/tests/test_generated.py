"""The committed schema and reference page are what the contracts generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import asyncapi, reference

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("path", "generate"),
    [
        (reference.SCHEMA_PATH, reference.rules_schema),
        (reference.MESSAGES_PATH, reference.messages_schema),
        (reference.PUSH_PATH, reference.push_schema),
        (asyncapi.ASYNCAPI_PATH, asyncapi.asyncapi_json),
        (reference.REFERENCE_PATH, reference.reference_markdown),
    ],
)
def test_committed_copy_is_current(path, generate):
    assert (ROOT / path).read_text() == generate(), f"{path} is stale: run `uv run segctl docs`"


def test_the_reference_lists_every_operator_of_every_field_type():
    page = reference.reference_markdown()
    from contracts.catalog import OPERATORS_BY_TYPE

    for field_type, operators in OPERATORS_BY_TYPE.items():
        assert f"| `{field_type.value}` |" in page
        for op in operators:
            assert f"`{op.value}`" in page


def test_the_asyncapi_document_names_every_topic_its_producers_and_consumer_groups():
    from contracts.topics import TOPICS

    doc = asyncapi.document()
    assert doc["asyncapi"].startswith("3.")
    for topic in TOPICS.values():
        assert topic.name in doc["channels"]
        sends = [
            o
            for o in doc["operations"].values()
            if o["action"] == "send" and o["channel"]["$ref"] == f"#/channels/{topic.name}"
        ]
        receives = [
            o
            for o in doc["operations"].values()
            if o["action"] == "receive" and o["channel"]["$ref"] == f"#/channels/{topic.name}"
        ]
        assert len(sends) == len(topic.producers) >= 1, topic.name
        assert len(receives) == len(topic.consumers) >= 1, topic.name
    assert {"push.account", "push.owner", "dead-letter"} <= doc["channels"].keys()
    # every reference resolves
    import json
    import re

    text = json.dumps(doc)
    for ref in set(re.findall(r'"\$ref": "#/([^"]+)"', text)):
        node = doc
        for part in ref.split("/"):
            node = node[part]
