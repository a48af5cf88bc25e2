"""Segment routes: parse, call the service, answer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from segment_api.http.deps import (
    ChangesDep,
    CurrentPrincipal,
    InsightsDep,
    SegmentReadsDep,
    Segments,
    rate_limited,
)
from segment_api.http.problems import problem_responses
from segment_api.insights.schemas import (
    BucketsOut,
    DetailOut,
    MembersPage,
    MembersQuery,
    PerformanceOut,
    PreviewOut,
    PreviewRequest,
)
from segment_api.segments.schemas import (
    EmbeddableOut,
    ListQuery,
    RefreshRun,
    SegmentCreate,
    SegmentOut,
    SegmentPage,
    SegmentPatch,
    ValidateRequest,
    ValidationOut,
)
from segment_api.shared.visibility import VisibleSegment

router = APIRouter(
    prefix="/v1/segments",
    tags=["segments"],
    responses=problem_responses(401, 403, 422),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409, 422),
)
async def create_segment(
    body: SegmentCreate, principal: CurrentPrincipal, segments: Segments
) -> SegmentOut:
    """Create a segment; its member table is built in the background (watch the status push)."""
    return await segments.create(principal, body)


@router.post(
    "/validate",
    responses=problem_responses(422, 429),
    dependencies=[rate_limited("validate")],
)
async def validate_rules(
    body: ValidateRequest, principal: CurrentPrincipal, reads: SegmentReadsDep
) -> ValidationOut:
    """Segment testing: every error with its JSON path, or the compiled build SQL and a
    BigQuery dry run of it. Accepts `rules` or the older `ruleGroups`."""
    return await reads.validate(principal, body)


@router.get("", response_model=SegmentPage)
async def list_segments(
    principal: CurrentPrincipal, reads: SegmentReadsDep, query: Annotated[ListQuery, Query()]
) -> Response:
    """The account's segments, All Data first; filter by name, status, object and creation
    time; sort by created_at, updated_at, name or member_count (`-` for descending)."""
    return Response(await reads.page(principal, query), media_type="application/json")


@router.post("/refresh-all", status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(403))
async def refresh_all(principal: CurrentPrincipal, segments: Segments) -> RefreshRun:
    """Rebuild every active segment of the account (the first document's "expire all")."""
    return await segments.refresh_all(principal)


@router.get("/embeddable")
async def embeddable_for_new(
    principal: CurrentPrincipal,
    reads: SegmentReadsDep,
    object: Annotated[str, Query(max_length=100)] = "customer",
) -> list[EmbeddableOut]:
    """Segments a new segment of `object` may embed."""
    return await reads.embeddable(principal, object, None)


@router.get("/{segment_id}/embeddable", responses=problem_responses(404))
async def embeddable_for(
    segment: VisibleSegment, principal: CurrentPrincipal, reads: SegmentReadsDep
) -> list[EmbeddableOut]:
    """Segments this one may embed: not itself, none that would make a cycle."""
    return await reads.embeddable(principal, "", segment)


@router.get("/{segment_id}", responses=problem_responses(404), response_model=SegmentOut)
async def get_segment(
    segment_id: UUID, principal: CurrentPrincipal, reads: SegmentReadsDep
) -> Response:
    """A segment with its build status, last build time and size (cached; the same
    visibility rule as every route naming a segment, applied inside the cache key)."""
    return Response(await reads.show(principal, segment_id), media_type="application/json")


@router.patch(
    "/{segment_id}",
    responses=problem_responses(404, 422),
)
async def update_segment(
    segment_id: UUID, body: SegmentPatch, principal: CurrentPrincipal, segments: Segments
) -> SegmentOut:
    """Rename, describe or change the rules (which rebuilds it and then its parents)."""
    return await segments.update(principal, segment_id, body)


@router.delete(
    "/{segment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 422),
)
async def delete_segment(segment_id: UUID, principal: CurrentPrincipal, segments: Segments) -> None:
    """Delete; refused (422 `embedded_by_others`, naming them) while other segments embed it."""
    await segments.delete(principal, segment_id)


@router.post("/{segment_id}/archive", responses=problem_responses(404, 422))
async def archive_segment(
    segment_id: UUID, principal: CurrentPrincipal, segments: Segments
) -> SegmentOut:
    return await segments.archive(principal, segment_id)


@router.post("/{segment_id}/unarchive", responses=problem_responses(404, 409, 422))
async def unarchive_segment(
    segment_id: UUID, principal: CurrentPrincipal, segments: Segments
) -> SegmentOut:
    return await segments.unarchive(principal, segment_id)


@router.post(
    "/{segment_id}/duplicate",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 409, 422),
)
async def duplicate_segment(
    segment_id: UUID, principal: CurrentPrincipal, segments: Segments
) -> SegmentOut:
    """A copy named 'Copy of …', with the same rules, built afresh."""
    return await segments.duplicate(principal, segment_id)


@router.post(
    "/{segment_id}/rebuild",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(404, 422),
)
async def rebuild_segment(
    segment_id: UUID, principal: CurrentPrincipal, segments: Segments
) -> SegmentOut:
    return await segments.rebuild(principal, segment_id)


@router.post(
    "/preview",
    dependencies=[rate_limited("preview")],
    responses=problem_responses(404, 422, 429, 502, 503, 504),
)
async def preview_rules(
    body: PreviewRequest, principal: CurrentPrincipal, insights: InsightsDep
) -> PreviewOut:
    """Matched count, base total, percentage, a sample and each rule node's count of an
    unsaved rule set; with `segment_id`, who would enter and exit. 504 past the budget."""
    return await insights.preview(principal, body)


@router.get("/{segment_id}/detail", responses=problem_responses(404, 502, 503, 504))
async def segment_detail(
    segment: VisibleSegment, principal: CurrentPrincipal, insights: InsightsDep
) -> DetailOut:
    """Total matched, reach of the object base, last update, and reachability by channel
    (none for archived segments)."""
    return await insights.detail(principal, segment)


@router.get("/{segment_id}/members", responses=problem_responses(404, 502, 503, 504))
async def segment_members(
    segment: VisibleSegment,
    principal: CurrentPrincipal,
    insights: InsightsDep,
    changes: ChangesDep,
    query: Annotated[MembersQuery, Query()],
) -> MembersPage:
    """The built segment's members, paged, with the object's display columns; with
    `as_of_build`, those a past (done) build of it left."""
    if query.as_of_build is not None:
        return await changes.members_as_of(principal, segment, query)
    return await insights.members(principal, segment, query.page, query.per_page, query.bucket)


@router.get("/{segment_id}/buckets", responses=problem_responses(404, 502, 503, 504))
async def segment_buckets(
    segment: VisibleSegment, principal: CurrentPrincipal, insights: InsightsDep
) -> BucketsOut:
    """A split segment's buckets with their members now (422 `no_split` if it has none).
    Each is addressable like a segment: `members?bucket=`, `reachability?bucket=`, a
    recipient list's `bucket`, and `{"type": "segment", "bucket": ...}` in rules."""
    return await insights.buckets(principal, segment)


@router.get("/{segment_id}/performance", responses=problem_responses(404, 502, 503, 504))
async def segment_performance(
    segment: VisibleSegment,
    principal: CurrentPrincipal,
    insights: InsightsDep,
    days: Annotated[int, Query(ge=1, le=3650)] = 90,
) -> PerformanceOut:
    """Size over time (each successful build in the last `days`) and the members by
    source, domicile, age band and gender."""
    return await insights.performance(principal, segment, days)
