"""Read model over the scheduler's build records: a segment's build history, a run's progress.

The gateway only reads these tables (the scheduler writes them); visibility is the
same as for the segment itself.
"""

from __future__ import annotations

from uuid import UUID

from segment_api.builds import repository
from segment_api.builds.schemas import BuildRecordOut, RefreshRunOut
from segment_api.http.problems import not_found
from segment_api.shared.rows import SegmentRow
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.db import Pool


class BuildHistory:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def of_segment(
        self, principal: Principal, segment: SegmentRow, limit: int
    ) -> list[BuildRecordOut]:
        """The builds of a segment the caller may see (the route's VisibleSegment)."""
        async with self._pool.acquire() as conn:
            rows = await repository.builds_of(conn, principal.account_id, segment.id, limit)
        return [BuildRecordOut.model_validate(r) for r in rows]

    async def run(self, principal: Principal, run_id: UUID) -> RefreshRunOut:
        access = principal.access(Scope.VIEW)
        if access is Access.DISABLED:
            raise not_found()
        async with self._pool.acquire() as conn:
            row = await repository.run(conn, principal.account_id, run_id)
        if row is None:
            raise not_found()
        return RefreshRunOut.model_validate(row)
