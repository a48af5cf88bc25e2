"""The notification use case: a status fact becomes a push on every channel, once."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import structlog

from contracts.messages import BuildStatus, ChangeKind, JobCompleted, SegmentChanged
from contracts.push import SegmentStatusPush
from notifier.ports import Channel, SeenMessages

log = structlog.get_logger(__name__)


class Notifier:
    def __init__(self, channels: Sequence[Channel], seen: SeenMessages) -> None:
        self._channels = channels
        self._seen = seen

    async def on_job_completed(self, event: JobCompleted) -> None:
        d = event.data
        await self._push(
            event.accountid,
            SegmentStatusPush(
                message_id=event.id,
                segment_id=d.segment_id,
                status=d.status,
                rules_version=d.rules_version,
                member_count=d.member_count,
                built_at=d.built_at,
                error=d.error,
            ),
        )

    async def on_segment_changed(self, event: SegmentChanged) -> None:
        d = event.data
        if not d.rules_changed or d.change not in (
            ChangeKind.CREATED,
            ChangeKind.UPDATED,
            ChangeKind.UNARCHIVED,
        ):
            return
        await self._push(
            event.accountid,
            SegmentStatusPush(
                message_id=event.id,
                segment_id=d.segment_id,
                status=BuildStatus.IN_PROGRESS,
                rules_version=d.rules_version,
            ),
        )

    async def _push(self, account_id: UUID, push: SegmentStatusPush) -> None:
        # Remembered only after every channel took it: a failure redelivers, and a
        # repeated push of the same status is harmless to a frontend, a lost one is not.
        if await self._seen.seen(push.message_id):
            return
        for channel in self._channels:
            await channel.send(account_id, push)
        await self._seen.remember(push.message_id)
        log.info("pushed", segment_id=str(push.segment_id), status=push.status)
