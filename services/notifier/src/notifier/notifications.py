"""The notification use case: each status or metadata fact becomes a push on every channel, once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from uuid import UUID

import structlog

from contracts.messages import BuildChanged, BuildState, RunProgress, SegmentChanged
from contracts.push import AnyPush, SegmentChangePush, SegmentStatusPush
from notifier.ports import Channel, SeenMessages
from segment_runtime.metrics import PUSHES

log = structlog.get_logger(__name__)


class RunFloor:
    """A run's progress as pushed never goes backwards. Its builds' facts travel on
    different partitions (keyed by segment), so they can arrive out of order; a push whose
    run has fewer builds ended than one already pushed carries the newer progress instead."""

    def __init__(self, keep: int = 1024) -> None:
        self._latest: OrderedDict[UUID, RunProgress] = OrderedDict()
        self._keep = keep

    def newest(self, run: RunProgress | None) -> RunProgress | None:
        if run is None:
            return None
        seen = self._latest.get(run.run_id)
        if seen is not None and (seen.ended, seen.state == "finished") > (
            run.ended,
            run.state == "finished",
        ):
            return seen
        self._latest[run.run_id] = run
        self._latest.move_to_end(run.run_id)
        while len(self._latest) > self._keep:
            self._latest.popitem(last=False)
        return run


class Notifier:
    def __init__(self, channels: Sequence[Channel], seen: SeenMessages) -> None:
        self._channels = channels
        self._seen = seen
        self._runs = RunFloor()

    async def on_build_changed(self, event: BuildChanged) -> None:
        d = event.data
        failed = d.state in (BuildState.FAILED, BuildState.CANCELED, BuildState.SKIPPED)
        await self._push(
            event.accountid,
            d.owner,
            SegmentStatusPush(
                message_id=event.id,
                correlation_id=event.correlationid,
                segment_id=d.segment_id,
                status=d.status,
                state=d.state,
                build_id=d.build_id,
                cause=d.cause,
                rules_version=d.rules_version,
                since=d.since,
                reason=d.reason,
                member_count=d.member_count,
                entered=d.entered,
                exited=d.exited,
                anomaly=d.anomaly,
                built_at=d.built_at,
                error=d.reason if failed else None,
                waiting=d.waiting,
                run=self._runs.newest(d.run),
            ),
        )

    async def on_segment_changed(self, event: SegmentChanged) -> None:
        d = event.data
        await self._push(
            event.accountid,
            d.owner,
            SegmentChangePush(
                message_id=event.id,
                correlation_id=event.correlationid,
                segment_id=d.segment_id,
                change=d.change,
                rules_version=d.rules_version,
                rules_changed=d.rules_changed,
            ),
        )

    async def _push(self, account_id: UUID, owner: str | None, push: AnyPush) -> None:
        # Remembered only after every channel took it: a failure redelivers, and a
        # repeated push of the same status is harmless to a frontend, a lost one is not.
        if await self._seen.seen(push.message_id):
            return
        for channel in self._channels:
            await channel.send(account_id, push, owner)
            PUSHES.labels(type(channel).__name__, push.event).inc()
        await self._seen.remember(push.message_id)
        log.info("pushed", segment_id=str(push.segment_id), push=push.event)
