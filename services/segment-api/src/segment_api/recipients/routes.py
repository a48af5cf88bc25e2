"""Send Campaign: a segment's audience by channel, and recipient lists frozen from it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from segment_api.http.deps import CurrentPrincipal, RecipientsDep
from segment_api.http.problems import problem_responses
from segment_api.recipients.schemas import (
    ReachabilityOut,
    RecipientListOut,
    RecipientPage,
    RecipientsRequest,
)
from segment_api.shared.schemas import MAX_PAGE
from segment_api.shared.visibility import VisibleSegment

router = APIRouter(tags=["send campaign"], responses=problem_responses(401, 403, 404, 422))


@router.get("/v1/segments/{segment_id}/reachability", responses=problem_responses(502, 503, 504))
async def segment_reachability(
    segment: VisibleSegment,
    principal: CurrentPrincipal,
    recipients: RecipientsDep,
    bucket: Annotated[str | None, Query(max_length=40)] = None,
) -> ReachabilityOut:
    """Audience size by channel for Send Campaign: members reachable on each channel (an
    address and the channel's consent), counted as the recipient list would hold them;
    `bucket`: of that bucket of the segment's split only."""
    return await recipients.audience(principal, segment, bucket)


@router.post(
    "/v1/segments/{segment_id}/recipients",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(502, 503, 504),
)
async def create_recipient_list(
    segment: VisibleSegment,
    body: RecipientsRequest,
    principal: CurrentPrincipal,
    recipients: RecipientsDep,
) -> RecipientListOut:
    """Freeze the members reachable on the channel into a recipient list, announced on
    `recipient_list.created`. 422 `no_reachable_members` when nobody is."""
    return await recipients.freeze(principal, segment, body)


@router.get("/v1/recipient-lists/{list_id}")
async def get_recipient_list(
    list_id: UUID, principal: CurrentPrincipal, recipients: RecipientsDep
) -> RecipientListOut:
    return await recipients.get(principal, list_id)


@router.get("/v1/recipient-lists/{list_id}/recipients", responses=problem_responses(502, 504))
async def recipient_page(
    list_id: UUID,
    principal: CurrentPrincipal,
    recipients: RecipientsDep,
    page: Annotated[int, Query(ge=1, le=10**6)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> RecipientPage:
    """A page of the list (object_id and address), in a stable order, for the broadcast
    service."""
    return await recipients.page(principal, list_id, page, per_page)
