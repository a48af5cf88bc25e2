from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from contracts.messages import (
    BuildCause,
    BuildChanged,
    BuildChangedData,
    BuildState,
    BuildStatus,
    ChangeKind,
    SegmentChanged,
    SegmentChangedData,
)
from contracts.push import AnyPush, SegmentStatusPush
from notifier.notifications import Notifier


class FakeChannel:
    def __init__(self, failures: int = 0) -> None:
        self.sent: list[tuple[UUID, AnyPush]] = []
        self.failures = failures

    async def send(self, account_id: UUID, push: AnyPush, owner: str | None) -> None:
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


def build_changed(state: BuildState = BuildState.DONE, reason: str | None = None) -> BuildChanged:
    return BuildChanged(
        source="scheduler",
        accountid=ACCOUNT,
        correlationid=uuid4(),
        data=BuildChangedData(
            build_id=uuid4(),
            segment_id=SEGMENT,
            state=state,
            status=state.status,
            cause=BuildCause.EDIT,
            rules_version=2,
            since=datetime(2026, 1, 1, tzinfo=UTC),
            reason=reason,
            member_count=12 if state is BuildState.DONE else None,
        ),
    )


async def test_a_build_change_reaches_every_channel_once():
    pusher, sockets = FakeChannel(), FakeChannel()
    notifier = Notifier([pusher, sockets], MemorySeen())
    event = build_changed()
    await notifier.on_build_changed(event)
    await notifier.on_build_changed(event)  # redelivered
    for channel in (pusher, sockets):
        assert len(channel.sent) == 1
        account, push = channel.sent[0]
        assert account == ACCOUNT
        assert isinstance(push, SegmentStatusPush)
        assert (push.segment_id, push.status, push.state, push.member_count) == (
            SEGMENT,
            "done",
            "done",
            12,
        )
        assert push.event == "segment.status" and push.rules_version == 2


async def test_every_state_is_pushed_with_its_reason():
    channel = FakeChannel()
    notifier = Notifier([channel], MemorySeen())
    for state in BuildState:
        await notifier.on_build_changed(build_changed(state, reason=f"why {state}"))
    pushed = [
        (p.status, p.state, p.error) for _, p in channel.sent if isinstance(p, SegmentStatusPush)
    ]
    assert pushed == [
        ("in_progress", "requested", None),
        ("in_progress", "submitted", None),
        ("in_progress", "running", None),
        ("done", "done", None),
        ("failed", "failed", "why failed"),
        ("skipped", "skipped", "why skipped"),
        ("canceled", "canceled", "why canceled"),
    ]


async def test_a_failed_push_is_retried_on_redelivery_not_forgotten():
    flaky = FakeChannel(failures=1)
    notifier = Notifier([flaky], MemorySeen())
    event = build_changed()
    try:
        await notifier.on_build_changed(event)
    except ConnectionError:
        pass
    await notifier.on_build_changed(event)
    assert len(flaky.sent) == 1


async def test_every_metadata_change_is_pushed_so_other_tabs_follow():
    channel = FakeChannel()
    notifier = Notifier([channel], MemorySeen())
    for change in ChangeKind:
        await notifier.on_segment_changed(
            SegmentChanged(
                source="t",
                accountid=ACCOUNT,
                correlationid=uuid4(),
                data=SegmentChangedData(
                    segment_id=SEGMENT, change=change, rules_version=3, rules_changed=False
                ),
            )
        )
    assert [(p.event, getattr(p, "change", None)) for _, p in channel.sent] == [
        ("segment.changed", c) for c in ChangeKind
    ]


async def test_the_cache_generation_channel_bumps_the_shared_key():
    from redis.asyncio import Redis

    from contracts.cache import cache_generation_key
    from notifier.adapters import CacheGeneration

    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    prefix, account = f"nt{uuid4().hex[:8]}", uuid4()
    push = SegmentStatusPush(
        message_id=uuid4(), segment_id=SEGMENT, status=BuildStatus.DONE, rules_version=1
    )
    await CacheGeneration(redis, prefix).send(account, push, None)
    await CacheGeneration(redis, prefix).send(account, push, None)
    assert int(await redis.get(cache_generation_key(prefix, account))) == 2
    await redis.delete(cache_generation_key(prefix, account))
    await redis.aclose()


async def test_the_segments_creator_travels_with_every_push():
    channel = FakeOwnerChannel()
    notifier = Notifier([channel], MemorySeen())
    event = build_changed()
    await notifier.on_build_changed(
        event.model_copy(update={"data": event.data.model_copy(update={"owner": "ana"})})
    )
    await notifier.on_segment_changed(
        SegmentChanged(
            source="t",
            accountid=ACCOUNT,
            correlationid=uuid4(),
            data=SegmentChangedData(
                segment_id=SEGMENT, change=ChangeKind.UPDATED, rules_version=3, owner="bo"
            ),
        )
    )
    assert channel.owners == ["ana", "bo"]


class FakeOwnerChannel:
    def __init__(self) -> None:
        self.owners: list[str | None] = []

    async def send(self, account_id: UUID, push: AnyPush, owner: str | None) -> None:
        self.owners.append(owner)


class FakeSocket:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send_text(self, text: str) -> None:
        self.texts.append(text)


async def test_the_hub_gives_owned_view_sockets_only_their_own_segments():
    import json

    from notifier.adapters import fanout_message
    from notifier.websockets import Hub

    hub = Hub(None, "p")  # type: ignore[arg-type]  # delivery never touches Redis
    everyone, ana, bo = FakeSocket(), FakeSocket(), FakeSocket()
    hub.join(ACCOUNT.hex, everyone, None)  # type: ignore[arg-type]
    hub.join(ACCOUNT.hex, ana, "ana")  # type: ignore[arg-type]
    hub.join(ACCOUNT.hex, bo, "bo")  # type: ignore[arg-type]
    push = SegmentStatusPush(
        message_id=uuid4(), segment_id=SEGMENT, status=BuildStatus.DONE, rules_version=1
    )
    channel = f"p:ws:{ACCOUNT.hex}".encode()
    await hub._deliver(channel, fanout_message(push, "ana").encode())
    await hub._deliver(channel, fanout_message(push, None).encode())
    assert len(everyone.texts) == 2
    assert [json.loads(t)["segment_id"] for t in ana.texts] == [str(SEGMENT)]
    assert bo.texts == []


async def test_a_cache_invalidation_lost_to_a_redis_outage_is_paid_when_it_returns():
    from redis.asyncio import Redis

    from contracts.cache import cache_epoch_key
    from notifier.adapters import CacheGeneration

    prefix = f"nt{uuid4().hex[:8]}"
    push = SegmentStatusPush(
        message_id=uuid4(), segment_id=SEGMENT, status=BuildStatus.DONE, rules_version=1
    )
    away = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    generation = CacheGeneration(away, prefix)
    await generation.send(ACCOUNT, push, None)  # Redis away: owed, not raised
    assert generation.owed
    back = Redis.from_url("redis://127.0.0.1:6379/0")
    generation._redis = back  # the same Redis, answering again
    await generation.settle()
    assert not generation.owed
    assert int(await back.get(cache_epoch_key(prefix))) == 1
    await back.delete(cache_epoch_key(prefix))
    await back.aclose()
    await away.aclose()


async def test_a_committed_build_pushes_its_counts_and_any_anomaly():
    pusher = FakeChannel()
    notifier = Notifier([pusher], MemorySeen())
    event = build_changed()
    flagged = event.model_copy(
        update={
            "data": event.data.model_copy(
                update={"entered": 3, "exited": 40, "anomaly": "emptied: 40 members before"}
            )
        }
    )
    await notifier.on_build_changed(flagged)
    ((_, push),) = pusher.sent
    assert isinstance(push, SegmentStatusPush)
    assert (push.entered, push.exited, push.anomaly) == (3, 40, "emptied: 40 members before")


async def test_a_runs_progress_as_pushed_never_goes_backwards():
    """Builds of one run travel on different partitions and can arrive out of order: the
    pushes keep the total fixed and the ended count growing."""
    from contracts.messages import RunProgress

    pusher = FakeChannel()
    notifier = Notifier([pusher], MemorySeen())
    run_id = uuid4()

    def at(ended: int, state: str = "running") -> BuildChanged:
        event = build_changed()
        progress = RunProgress(
            run_id=run_id,
            state=state,  # type: ignore[arg-type]
            total=6,
            counts={"done": ended, "requested": 6 - ended},
            ended=ended,
        )
        return event.model_copy(update={"data": event.data.model_copy(update={"run": progress})})

    for ended in (1, 4, 5, 2, 3):  # arrival order, as seen on the stack
        await notifier.on_build_changed(at(ended))
    await notifier.on_build_changed(at(6, "finished"))
    await notifier.on_build_changed(at(5))  # a straggler after the end
    runs = [push.run for _, push in pusher.sent]  # type: ignore[union-attr]
    assert [r.ended for r in runs] == [1, 4, 5, 5, 5, 6, 6]
    assert {r.total for r in runs} == {6}
    assert runs[-1].state == "finished"
