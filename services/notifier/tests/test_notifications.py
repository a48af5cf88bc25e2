from __future__ import annotations

from uuid import UUID, uuid4

from contracts.messages import (
    BuildStatus,
    ChangeKind,
    JobCompleted,
    JobCompletedData,
    SegmentChanged,
    SegmentChangedData,
)
from contracts.push import SegmentStatusPush
from notifier.notifications import Notifier


class FakeChannel:
    def __init__(self, failures: int = 0) -> None:
        self.sent: list[tuple[UUID, SegmentStatusPush]] = []
        self.failures = failures

    async def send(self, account_id: UUID, push: SegmentStatusPush) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("pusher unreachable")
        self.sent.append((account_id, push))


class MemorySeen:
    def __init__(self) -> None:
        self.ids: set[UUID] = set()

    async def seen(self, message_id: UUID) -> bool:
        return message_id in self.ids

    async def remember(self, message_id: UUID) -> None:
        self.ids.add(message_id)


ACCOUNT, SEGMENT = uuid4(), uuid4()


def completed() -> JobCompleted:
    return JobCompleted(
        source="t",
        accountid=ACCOUNT,
        correlationid=uuid4(),
        data=JobCompletedData(
            segment_id=SEGMENT,
            job_id="j",
            status=BuildStatus.DONE,
            rules_version=2,
            member_count=12,
        ),
    )


async def test_a_completed_job_reaches_every_channel_once():
    pusher, sockets = FakeChannel(), FakeChannel()
    notifier = Notifier([pusher, sockets], MemorySeen())
    event = completed()
    await notifier.on_job_completed(event)
    await notifier.on_job_completed(event)  # redelivered
    for channel in (pusher, sockets):
        assert len(channel.sent) == 1
        account, push = channel.sent[0]
        assert account == ACCOUNT
        assert (push.segment_id, push.status, push.member_count) == (SEGMENT, "done", 12)


async def test_a_failed_push_is_retried_on_redelivery_not_forgotten():
    flaky = FakeChannel(failures=1)
    notifier = Notifier([flaky], MemorySeen())
    event = completed()
    try:
        await notifier.on_job_completed(event)
    except ConnectionError:
        pass
    await notifier.on_job_completed(event)
    assert len(flaky.sent) == 1


async def test_a_rule_change_announces_the_rebuild_and_a_rename_does_not():
    channel = FakeChannel()
    notifier = Notifier([channel], MemorySeen())

    def change(rules_changed: bool) -> SegmentChanged:
        return SegmentChanged(
            source="t",
            accountid=ACCOUNT,
            correlationid=uuid4(),
            data=SegmentChangedData(
                segment_id=SEGMENT,
                change=ChangeKind.UPDATED,
                rules_version=3,
                rules_changed=rules_changed,
            ),
        )

    await notifier.on_segment_changed(change(rules_changed=False))
    await notifier.on_segment_changed(change(rules_changed=True))
    assert [p.status for _, p in channel.sent] == ["in_progress"]


async def test_the_cache_generation_channel_bumps_the_shared_key():
    from redis.asyncio import Redis

    from contracts.cache import cache_generation_key
    from notifier.adapters import CacheGeneration

    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    prefix, account = f"nt{uuid4().hex[:8]}", uuid4()
    push = SegmentStatusPush(
        message_id=uuid4(), segment_id=SEGMENT, status=BuildStatus.DONE, rules_version=1
    )
    await CacheGeneration(redis, prefix).send(account, push)
    await CacheGeneration(redis, prefix).send(account, push)
    assert int(await redis.get(cache_generation_key(prefix, account))) == 2
    await redis.delete(cache_generation_key(prefix, account))
    await redis.aclose()
