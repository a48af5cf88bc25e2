"""The visibility check as a dependency routes declare: `segment: VisibleSegment` loads
the path's segment and answers 404 unless the caller may see it (`Principal.sees`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from segment_api.http.deps import CurrentPrincipal
from segment_api.shared import policy
from segment_api.shared.rows import SegmentRow
from segment_runtime.db import Pool
from segment_runtime.logs import bind


async def visible_segment(
    segment_id: UUID, principal: CurrentPrincipal, request: Request
) -> SegmentRow:
    pool: Pool = request.app.state.pool
    bind(segment_id=segment_id)
    async with pool.acquire() as conn:
        return await policy.visible(conn, principal, segment_id)


VisibleSegment = Annotated[SegmentRow, Depends(visible_segment)]
