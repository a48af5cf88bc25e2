"""What the gateway tells the rest of the platform, through the outbox, in the
transaction of the change: segment.changed facts and cascade.requested commands."""

from __future__ import annotations

from uuid import UUID

from contracts.envelope import Cause
from contracts.messages import (
    ChangeKind,
    PlanBuilds,
    PlanBuildsData,
    RebuildSegmentsData,
    SegmentChanged,
    SegmentChangedData,
    StartRefreshRunData,
)
from segment_api.shared.rows import SegmentRow
from segment_runtime import correlation
from segment_runtime.auth import Principal
from segment_runtime.db import Connection
from segment_runtime.outbox import enqueue

SOURCE = "segment-api"


async def segment_changed(
    conn: Connection,
    principal: Principal,
    row: SegmentRow,
    change: ChangeKind,
    *,
    rules_changed: bool = True,
) -> None:
    await enqueue(
        conn,
        SegmentChanged.caused_by(
            Cause(principal.account_id, correlation.current()),
            SOURCE,
            data=SegmentChangedData(
                segment_id=row.id,
                change=change,
                rules_version=row.rules_version,
                rules_changed=rules_changed,
                owner=row.created_by,
            ),
        ),
    )


async def _cascade(conn: Connection, principal: Principal, data: PlanBuildsData) -> None:
    await enqueue(
        conn,
        PlanBuilds.caused_by(
            Cause(principal.account_id, correlation.current()),
            SOURCE,
            data=data,
        ),
    )


async def rebuild_requested(conn: Connection, principal: Principal, segment_id: UUID) -> None:
    """Command to the scheduler: rebuild the segment, then (once) what embeds it."""
    await _cascade(
        conn,
        principal,
        RebuildSegmentsData(segment_ids=[segment_id]),
    )


async def refresh_requested(conn: Connection, principal: Principal, run_id: UUID) -> None:
    """Command to the scheduler: refresh every active segment, in dependency order."""
    await _cascade(conn, principal, StartRefreshRunData(run_id=run_id))
