"""The topic registry against the services as they are wired: every topic carries a fact
(`Event`, past tense, any number of consumers) or a command (`Command`, imperative,
exactly one handler), and the services subscribe to what the registry says they do."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from contracts.envelope import Command, Event
from contracts.topics import TOPICS

# Each Kafka service's bootstrap module; create_app only wires (nothing connects).
SERVICES = {
    "scheduler": "scheduler.app",
    "compiler": "compiler.service.app",
    "job-monitor": "job_monitor.app",
    "notifier": "notifier.app",
}
ENV = {
    "KAFKA_BOOTSTRAP": "127.0.0.1:1",
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    "BIGQUERY_PROJECT": "registry-test",
    "REDIS_URL": "redis://127.0.0.1:1",
    "JWT_SECRET": "registry-test-secret",
    "PUSHER_APP_ID": "1",
    "PUSHER_KEY": "key",
    "PUSHER_SECRET": "registry-test-secret",
    "PUSHER_HOST": "127.0.0.1",
    "PUSHER_PORT": "1",
}


@pytest.fixture(scope="module")
def subscriptions() -> dict[str, set[str]]:
    """service → the topics its bootstrap subscribes to."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in ENV.items():
            env.setenv(name, value)
        found: dict[str, set[str]] = {}
        for service, module in SERVICES.items():
            app: Any = importlib.import_module(module).create_app()
            broker = app.broker if hasattr(app, "broker") else app.state.broker
            found[service] = {t for s in broker.subscribers for t in s.topic_names}
    return found


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_each_topic_carries_a_fact_or_a_command_named_as_such(topic: str):
    message = TOPICS[topic].message
    name = message.__name__
    if TOPICS[topic].is_command:
        assert not issubclass(message, Event)
        assert not name.endswith("ed"), f"{name}: a command is named in the imperative"
        assert len(TOPICS[topic].consumers) == 1, f"{name}: a command has one handler"
    else:
        assert issubclass(message, Event) and not issubclass(message, Command)
        assert name.endswith("ed"), f"{name}: a fact is named in the past tense"


def test_each_command_has_exactly_one_handler_among_the_services(subscriptions):
    commands = [t for t in TOPICS.values() if t.is_command]
    assert {t.name for t in commands} == {
        "build.requested",
        "cascade.requested",
        "job.cancel.requested",
    }
    for topic in commands:
        handlers = sorted(s for s, topics in subscriptions.items() if topic.name in topics)
        assert handlers == list(topic.consumers), topic.name


def test_the_services_subscribe_to_what_the_registry_says(subscriptions):
    for topic in TOPICS.values():
        platform = sorted(c for c in topic.consumers if c in SERVICES)
        actual = sorted(s for s, topics in subscriptions.items() if topic.name in topics)
        assert actual == platform, topic.name
    assert set().union(*subscriptions.values()) <= set(TOPICS)
