"""What the reconciler and the wait watch re-drive, each inside the owner's transaction
(see `owner`): a lost message's work, a job whose facts stopped coming, or a note on why
a build waits. Recovery reads only the scheduler's own tables and asks through the bus."""

from __future__ import annotations

from uuid import UUID

from contracts.messages import BuildCause, BuildMode, BuildState
from scheduler import repository
from scheduler.builds.context import IN_FLIGHT, Tx
from scheduler.builds.lifecycle import cancel, move, request
from scheduler.builds.planning import dispatch, send
from scheduler.repository import Build, SegmentInfo


async def redispatch(tx: Tx, build_id: UUID, max_attempts: int, waited_s: float) -> None:
    current = await repository.get_build(tx.conn, build_id)
    # Sent and unanswered: the command was lost, or the compiler's answer was.
    if current is None or current.state is not BuildState.REQUESTED or current.queued:
        return
    if current.attempts >= max_attempts:
        reason = f"the compiler did not take the build in {current.attempts} attempts"
        await move(tx, build_id, BuildState.FAILED, IN_FLIGHT, reason=reason)
        return
    note = (
        f"re-sent to the compiler (attempt {current.attempts + 1}): no answer in {waited_s:.0f} s"
    )
    await dispatch(tx, current, note)


async def ask_again(tx: Tx, build_id: UUID) -> None:
    """A job with no news: its build is sent again, and everyone re-states what they
    know. The compiler finds the job it made (the job id derives from the build) and says
    job.submitted again; the job monitor, hearing of a job it follows, says job.started
    again, or job.completed for one that ended. A job it never heard of it now follows.
    Not an attempt: the compiler did take the build; the overdue deadline bounds it."""
    current = await repository.get_build(tx.conn, build_id)
    if current is None or current.state not in (BuildState.SUBMITTED, BuildState.RUNNING):
        return
    await send(tx, await repository.mark_asked(tx.conn, build_id))


async def give_up(tx: Tx, build: Build, reason: str) -> None:
    """Fail a build no outcome came for within the overdue deadline."""
    await move(tx, build.id, BuildState.FAILED, IN_FLIGHT, reason=reason)


async def cancel_orphan(tx: Tx, build: Build, status: str) -> None:
    """A build of a segment archived or deleted without word (its change message was
    lost): canceled as the lost message would have, a deleted segment's job stopped."""
    await cancel(tx, build, f"segment {status}", stop_job=status == "deleted")


async def recover_change(tx: Tx, segment: SegmentInfo) -> None:
    await request(tx, segment.id, BuildCause.RECOVERY, BuildMode.BUILD)
