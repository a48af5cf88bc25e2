"""What the reconciler and the wait watch re-drive, each inside the owner's transaction
(see `owner`): a lost message's work, a job heard of only through the job monitor's
records, or a note on why a build waits."""

from __future__ import annotations

from uuid import UUID

from contracts.messages import BuildCause, BuildMode, BuildState
from scheduler import repository
from scheduler.builds.context import IN_FLIGHT, Tx
from scheduler.builds.lifecycle import cancel, move, request
from scheduler.builds.planning import dispatch
from scheduler.repository import Build, SegmentInfo


async def redispatch(tx: Tx, build_id: UUID, max_attempts: int, waited_s: float) -> None:
    current = await repository.get_build(tx.conn, build_id)
    # Sent and unanswered, or submitted to a job the job monitor never heard of.
    if current is None or current.state not in IN_FLIGHT or current.queued:
        return
    if current.attempts >= max_attempts:
        reason = f"the compiler did not take the build in {current.attempts} attempts"
        await move(tx, build_id, BuildState.FAILED, IN_FLIGHT, reason=reason)
        return
    note = (
        f"re-sent to the compiler (attempt {current.attempts + 1}): no answer in {waited_s:.0f} s"
    )
    await dispatch(tx, current, note)


async def adopt_job(tx: Tx, build: Build, job_id: str) -> None:
    """The job monitor follows a job for this build: only job.submitted was lost."""
    await move(tx, build.id, BuildState.SUBMITTED, (BuildState.REQUESTED,), job_id=job_id)


async def settle(
    tx: Tx, build: Build, state: BuildState, reason: str | None, **fields: str | int | None
) -> None:
    """End a build the job monitor's facts never reached (applied from its published
    `job_outcomes`), or one the reconciler gives up on."""
    await move(tx, build.id, state, IN_FLIGHT, reason=reason, **fields)


async def cancel_orphan(tx: Tx, build: Build, status: str) -> None:
    """A build of a segment archived or deleted without word (its change message was
    lost): canceled as the lost message would have, a deleted segment's job stopped."""
    await cancel(tx, build, f"segment {status}", stop_job=status == "deleted")


async def recover_change(tx: Tx, segment: SegmentInfo) -> None:
    await request(tx, segment.id, BuildCause.RECOVERY, BuildMode.BUILD)
