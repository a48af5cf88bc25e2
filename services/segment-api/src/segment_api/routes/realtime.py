"""Signs Pusher private-channel subscriptions: only the caller's own account channel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from contracts.push import account_channel
from segment_api.deps import CurrentPrincipal
from segment_api.problems import forbidden, problem_responses
from segment_api.schemas import PusherAuth
from segment_runtime.auth import Access, Scope

router = APIRouter(prefix="/v1/realtime", tags=["realtime"], responses=problem_responses(422))


@router.post("/pusher/auth", responses=problem_responses(401, 403))
async def pusher_auth(
    request: Request,
    principal: CurrentPrincipal,
    socket_id: Annotated[str, Form(pattern=r"^\d+\.\d+$")],
    channel_name: Annotated[str, Form(max_length=200)],
) -> PusherAuth:
    if principal.access(Scope.VIEW) is Access.DISABLED:
        raise forbidden("customers_segment_view is disabled for this user")
    if channel_name != account_channel(principal.account_id):
        raise forbidden("a token may subscribe to its own account's channel only")
    signed = request.app.state.pusher.authenticate(channel=channel_name, socket_id=socket_id)
    return PusherAuth(auth=signed["auth"])
