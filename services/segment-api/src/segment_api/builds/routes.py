"""Build history and refresh-run progress (the scheduler's records, read-only here)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from segment_api.builds.schemas import BuildRecordOut, RefreshRunOut
from segment_api.http.deps import BuildsDep, CurrentPrincipal
from segment_api.http.problems import problem_responses
from segment_api.shared.visibility import VisibleSegment

router = APIRouter(prefix="/v1", tags=["builds"], responses=problem_responses(401, 403, 404))


@router.get("/segments/{segment_id}/builds")
async def segment_builds(
    segment: VisibleSegment,
    principal: CurrentPrincipal,
    builds: BuildsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[BuildRecordOut]:
    """The segment's builds, newest first: state, cause, timings, counts and the reason for
    any that failed, were skipped or canceled."""
    return await builds.of_segment(principal, segment, limit)


@router.get("/refresh-runs/{run_id}")
async def refresh_run(
    run_id: UUID, principal: CurrentPrincipal, builds: BuildsDep
) -> RefreshRunOut:
    """A refresh run's progress (the id `POST /v1/segments/refresh-all` returned)."""
    return await builds.run(principal, run_id)
