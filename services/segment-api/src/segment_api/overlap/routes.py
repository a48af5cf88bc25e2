"""Overlap of two to four segments."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from segment_api.http.deps import CurrentPrincipal, OverlapsDep
from segment_api.http.problems import problem_responses
from segment_api.overlap.schemas import OverlapOut, OverlapRequest

router = APIRouter(
    prefix="/v1/segments",
    tags=["overlap"],
    responses=problem_responses(401, 403, 404, 422, 502, 503, 504),
)


@router.get("/overlap")
async def segments_overlap(
    principal: CurrentPrincipal,
    overlaps: OverlapsDep,
    segment_ids: Annotated[list[UUID], Query(min_length=2, max_length=4)],
) -> OverlapOut:
    """Every region of the segments' Venn diagram and each pair's Jaccard index, from
    their built tables (`segment_ids` twice to four times, one object type)."""
    return await overlaps.of(principal, segment_ids)


@router.post("/overlap")
async def rules_overlap(
    body: OverlapRequest, principal: CurrentPrincipal, overlaps: OverlapsDep
) -> OverlapOut:
    """The same for the builder's unsaved rules (as "these rules", first) beside one to
    three built segments."""
    return await overlaps.with_rules(principal, body)
