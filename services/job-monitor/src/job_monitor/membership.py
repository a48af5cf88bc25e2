"""A committed build's changes as `membership.changed` records: ordered chunks, each far
below the record limit, with ids derived from the build so a repeat is recognisably one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from contracts.envelope import Cause
from contracts.messages import MembershipChanged, MembershipChangedData

SOURCE = "job-monitor"
# A chunk holds at most this many ids and this many bytes of them: a 1M-member first build
# is a few hundred records of ~128 KB, never one record of 1M ids.
MAX_IDS_PER_CHUNK = 5_000
MAX_ID_BYTES_PER_CHUNK = 128 * 1024
# Each id costs its UTF-8 length plus its quotes and comma in the JSON.
_PER_ID_OVERHEAD = 3


@dataclass(frozen=True)
class BuildChanges:
    """What a build's MERGE did to the log, read back by build id."""

    members: int
    entered: int
    exited: int
    entered_ids: list[str] = field(default_factory=list)
    exited_ids: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.entered > 0 or self.exited > 0


def _split(entered: list[str], exited: list[str]) -> Iterator[tuple[list[str], list[str]]]:
    """Entered ids then exited ids, cut into chunks by count and size, in order."""
    chunk: tuple[list[str], list[str]] = ([], [])
    count = size = 0
    for side, ids in ((0, entered), (1, exited)):
        for member in ids:
            cost = len(member.encode()) + _PER_ID_OVERHEAD
            if count and (count >= MAX_IDS_PER_CHUNK or size + cost > MAX_ID_BYTES_PER_CHUNK):
                yield chunk
                chunk, count, size = ([], []), 0, 0
            chunk[side].append(member)
            count += 1
            size += cost
    yield chunk


def chunk_id(build_id: UUID, chunk: int) -> UUID:
    return uuid5(NAMESPACE_URL, f"membership.changed/{build_id}/{chunk}")


def announcements(
    *,
    account_id: UUID,
    correlation_id: UUID,
    segment_id: UUID,
    build_id: UUID,
    run_id: UUID | None,
    rules_version: int,
    built_at: datetime | None,
    build_time: datetime | None,
    changes: BuildChanges,
) -> list[MembershipChanged]:
    parts = list(_split(changes.entered_ids, changes.exited_ids))
    return [
        MembershipChanged.caused_by(
            Cause(account_id, correlation_id),
            SOURCE,
            id=chunk_id(build_id, i),
            data=MembershipChangedData(
                build_id=build_id,
                segment_id=segment_id,
                run_id=run_id,
                rules_version=rules_version,
                built_at=built_at,
                build_time=build_time,
                members=changes.members,
                entered=changes.entered,
                exited=changes.exited,
                chunk=i,
                chunks=len(parts),
                entered_ids=entered,
                exited_ids=exited,
            ),
        )
        for i, (entered, exited) in enumerate(parts)
    ]
