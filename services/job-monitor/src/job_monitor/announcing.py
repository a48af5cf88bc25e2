"""Who entered and who left, announced: after a job's end leaves an announcement owed,
read the build's ids back from the segment's log and publish them as `membership.changed`
chunks, in build order per segment, once.

Off the build's critical path: the build is done (and pushed) as soon as its counts are
read; reading tens of thousands of ids happens here, after. Exactly once: the chunks go
to the outbox in the same transaction that marks the announcement made, and the row stays
owed (locked, not lost) if the monitor dies between reading and recording.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from contracts.warehouse import log_of
from job_monitor import membership, repository
from job_monitor.ports import JobInspector, NotFoundError
from segment_runtime.correlation import correlated
from segment_runtime.db import Connection, Pool
from segment_runtime.outbox import enqueue

log = structlog.get_logger(__name__)
RETRY_PAUSE_S = 2.0


class Announcer:
    def __init__(self, pool: Pool, inspector: JobInspector, owed: asyncio.Event) -> None:
        self._pool = pool
        self._inspector = inspector
        self._owed = owed

    async def run(self, idle_s: float = 1.0) -> None:
        """Announce until cancelled; an error pauses and tries the same build again."""
        while True:
            try:
                made = await self.announce_next()
            except Exception as exc:  # the row stays owed; tell why and try again
                log.exception("announce_failed", error=repr(exc))
                made = False
                await asyncio.sleep(RETRY_PAUSE_S)
            if not made:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._owed.wait(), idle_s)
                self._owed.clear()

    async def announce_next(self) -> bool:
        """Announce the next owed build; False when none is owed. A warehouse error is
        noted on the job (`announce_error`) and raised: the build stays owed, and no later
        build of the segment is announced before it."""
        failure: Exception | None = None
        async with self._pool.acquire() as conn, conn.transaction():
            owed = await repository.next_owed(conn)
            if owed is None:
                return False
            with correlated(
                owed.correlation_id,
                account_id=owed.account_id,
                segment_id=owed.segment_id,
                build_id=owed.build_id,
            ):
                try:
                    changes = await self._inspector.changes(
                        log_of(owed.target_table), owed.build_id, owed.build_time, ids=True
                    )
                except NotFoundError:
                    # The segment was deleted since and its log dropped: nobody to tell.
                    log.warning("announce_skipped_log_gone", build_id=str(owed.build_id))
                    await repository.mark_announced(conn, owed.job_id)
                except Exception as exc:
                    await repository.announce_failed(conn, owed.job_id, repr(exc)[:1000])
                    failure = exc
                else:
                    await _publish(conn, owed, changes)
        if failure is not None:
            raise failure
        return True


async def _publish(
    conn: Connection, owed: repository.OwedAnnouncement, changes: membership.BuildChanges
) -> None:
    messages = membership.announcements(
        account_id=owed.account_id,
        correlation_id=owed.correlation_id,
        segment_id=owed.segment_id,
        build_id=owed.build_id,
        run_id=owed.run_id,
        rules_version=owed.rules_version,
        built_at=owed.finished_at,
        build_time=owed.build_time,
        changes=changes,
    )
    for message in messages:
        await enqueue(conn, message)
    await repository.mark_announced(conn, owed.job_id)
    log.info(
        "membership_announced",
        build_id=str(owed.build_id),
        entered=changes.entered,
        exited=changes.exited,
        chunks=len(messages),
    )
