"""Explain a member: why one object is (or is not) in a segment, node by node."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from segment_api.explain.schemas import ExplainOut, ExplainRequest
from segment_api.http.deps import CurrentPrincipal, ExplanationsDep
from segment_api.http.problems import problem_responses
from segment_api.shared.visibility import VisibleSegment

router = APIRouter(
    prefix="/v1/segments",
    tags=["explain"],
    responses=problem_responses(401, 403, 404, 422, 502, 503, 504),
)


@router.get("/{segment_id}/explain")
async def explain_member(
    segment: VisibleSegment,
    principal: CurrentPrincipal,
    explanations: ExplanationsDep,
    member_id: Annotated[str, Query(min_length=1, max_length=200)],
) -> ExplainOut:
    """Every rule node's verdict for the member and the value that decided each
    condition; whether the member is in the built table and, if the live rules say
    otherwise, why. 404 names an unknown `member_id`."""
    return await explanations.saved(principal, segment, member_id)


@router.post("/explain")
async def explain_unsaved(
    body: ExplainRequest, principal: CurrentPrincipal, explanations: ExplanationsDep
) -> ExplainOut:
    """The same for unsaved rules (the builder's), in any accepted shape."""
    return await explanations.unsaved(principal, body)
