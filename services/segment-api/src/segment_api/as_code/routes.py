"""Segments as code: export, plan and apply YAML files (what `segctl segments` calls)."""

from __future__ import annotations

from fastapi import APIRouter

from segment_api.as_code.schemas import ApplyOut, ApplyRequest, FilesOut, PlanOut, PlanRequest
from segment_api.http.deps import AsCodeDep, CurrentPrincipal
from segment_api.http.problems import problem_responses

router = APIRouter(
    prefix="/v1/segments/code",
    tags=["segments as code"],
    responses=problem_responses(401, 403, 422, 502, 503, 504),
)


@router.get("")
async def export_segments_as_code(principal: CurrentPrincipal, code: AsCodeDep) -> FilesOut:
    """The account's active segments as YAML files, one a segment, embeds by name."""
    return await code.export(principal)


@router.post("/plan")
async def plan_segments_as_code(
    body: PlanRequest, principal: CurrentPrincipal, code: AsCodeDep
) -> PlanOut:
    """What applying these files would create, change and archive, with who would enter
    and exit; its `fingerprint` is what `apply` must be given."""
    return await code.plan(principal, body.files)


@router.post("/apply", responses=problem_responses(409))
async def apply_segments_as_code(
    body: ApplyRequest, principal: CurrentPrincipal, code: AsCodeDep
) -> ApplyOut:
    """Apply the files as planned; 409 `stale_plan` when the account moved since."""
    return await code.apply(principal, body.files, body.fingerprint)
