"""The notifier as its bootstrap wires it, driven in memory: facts in through
FastStream's TestKafkaBroker become pushes on the (fake) Pusher channel, once each, and
a finished build moves the account's cache generation in Redis."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from redis.asyncio import Redis
from service_harness import Harness

from contracts.cache import cache_generation_key
from contracts.messages import (
    BuildCause,
    BuildChanged,
    BuildChangedData,
    BuildState,
    ChangeKind,
    SegmentChanged,
    SegmentChangedData,
)
from contracts.push import SegmentChangePush, SegmentStatusPush
from notifier.app import bootstrap, push_side
from notifier.settings import Settings
from segment_runtime.kafka import make_broker
from services.notifier.tests.test_notifications import FakeChannel, MemorySeen


async def test_facts_become_pushes_once_and_a_finished_build_moves_the_cache():
    prefix = f"test-{uuid4().hex[:8]}"
    settings = Settings(
        KAFKA_BOOTSTRAP="127.0.0.1:1",
        REDIS_URL="redis://127.0.0.1:6379/0",
        REDIS_PREFIX=prefix,
        PUSHER_APP_ID="1",
        PUSHER_KEY="k",
        PUSHER_SECRET="s",
        PUSHER_HOST="127.0.0.1",
        PUSHER_PORT=1,
    )
    redis = Redis.from_url(settings.redis_url)
    pusher = FakeChannel()
    service = bootstrap(
        settings,
        push_side(settings, redis),
        broker=make_broker("127.0.0.1:1", "notifier"),
        channel=pusher,
        seen=MemorySeen(),
    )
    account, segment = uuid4(), uuid4()
    done = BuildChanged(
        source="scheduler",
        accountid=account,
        correlationid=uuid4(),
        data=BuildChangedData(
            build_id=uuid4(),
            segment_id=segment,
            state=BuildState.DONE,
            status=BuildState.DONE.status,
            cause=BuildCause.EDIT,
            rules_version=2,
            since=datetime(2030, 1, 1, tzinfo=UTC),
            member_count=12,
        ),
    )
    renamed = SegmentChanged.caused_by(
        done,
        "segment-api",
        SegmentChangedData(
            segment_id=segment, change=ChangeKind.UPDATED, rules_version=2, rules_changed=False
        ),
    )
    try:
        async with Harness(service, None) as h:
            await h.publish(done)
            await h.publish(done)  # redelivered: pushed once
            await h.publish(renamed)
        pushes = [p for _, p in pusher.sent]
        assert [type(p) for p in pushes] == [SegmentStatusPush, SegmentChangePush]
        status = pushes[0]
        assert isinstance(status, SegmentStatusPush)
        assert (status.segment_id, status.status, status.member_count) == (segment, "done", 12)
        assert {a for a, _ in pusher.sent} == {account}
        assert int(await redis.get(cache_generation_key(prefix, account)) or 0) >= 1
    finally:
        await redis.delete(cache_generation_key(prefix, account))
        await redis.aclose()
