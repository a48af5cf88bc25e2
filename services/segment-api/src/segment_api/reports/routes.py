"""Segments on reports (the first document's segment reports)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, status

from segment_api.http.deps import CurrentPrincipal, ReportsDep
from segment_api.http.problems import problem_responses
from segment_api.reports.use_cases import (
    AppliedSegment,
    ApplySegments,
    ChartToggle,
    ReportFilterOut,
)

router = APIRouter(
    prefix="/v1/reports/{report}/segments",
    tags=["reports"],
    responses=problem_responses(401, 403, 422),
)
Report = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")]
Identifier = Annotated[str, Query(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]


@router.get("")
async def applied_segments(
    report: Report, principal: CurrentPrincipal, reports: ReportsDep
) -> list[AppliedSegment]:
    """The caller's segments on this report (sticky ones first), labelled S1 … S4."""
    return await reports.applied(principal, report)


@router.put("", responses=problem_responses(409, 422))
async def apply_segments(
    report: Report, body: ApplySegments, principal: CurrentPrincipal, reports: ReportsDep
) -> list[AppliedSegment]:
    """Apply up to four segments to this report, or to every report with `sticky`."""
    return await reports.apply(principal, report, body)


@router.delete(
    "/{segment_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
async def remove_segment(
    report: Report, segment_id: UUID, principal: CurrentPrincipal, reports: ReportsDep
) -> None:
    await reports.remove(principal, report, segment_id)


@router.put("/{segment_id}/chart", responses=problem_responses(404))
async def apply_to_charts(
    report: Report,
    segment_id: UUID,
    body: ChartToggle,
    principal: CurrentPrincipal,
    reports: ReportsDep,
) -> list[AppliedSegment]:
    """Apply (or stop applying) the segment to the report's charts."""
    return await reports.chart(principal, report, segment_id, body)


@router.get("/filter")
async def report_filters(
    report: Report,
    principal: CurrentPrincipal,
    reports: ReportsDep,
    alias: Identifier = "r",
    id_column: Identifier = "customer_id",
) -> list[ReportFilterOut]:
    """For each applied, built segment: a CTE and a predicate the report query ANDs in.
    `alias` and `id_column` name the report's own row, and are checked as identifiers."""
    return await reports.filters(principal, report, alias, id_column)
