"""Membership changes: who entered and who left a segment, build by build."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from segment_api.builds.schemas import ChangesPage, ChangesQuery
from segment_api.http.deps import ChangesDep, CurrentPrincipal
from segment_api.http.problems import problem_responses
from segment_api.shared.visibility import VisibleSegment

router = APIRouter(
    prefix="/v1/segments", tags=["segments"], responses=problem_responses(401, 403, 404, 422)
)


@router.get("/{segment_id}/changes", responses=problem_responses(502, 503, 504))
async def segment_changes(
    segment: VisibleSegment,
    principal: CurrentPrincipal,
    changes: ChangesDep,
    query: Annotated[ChangesQuery, Query()],
) -> ChangesPage:
    """Who entered and who left, newest first, with the object's display columns: every
    build's changes from the segment's membership log. 404 names an unknown `build_id`;
    422 a `cursor` this API did not return."""
    return await changes.page(principal, segment, query)
