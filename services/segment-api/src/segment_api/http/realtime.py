"""The realtime contract: which channel the caller listens on, and its Pusher signature.

A user who sees the whole account listens on the account's channel; a user whose
view is `owned` on their own owner channel, which carries only their segments'
news. The gateway signs nothing else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from contracts.push import CHANGE_EVENT, STATUS_EVENT, account_channel, owner_channel
from segment_api.http.deps import CurrentPrincipal
from segment_api.http.problems import forbidden, problem_responses
from segment_api.http.schemas import PusherAuth, PusherClient, RealtimeChannel
from segment_runtime.auth import Access, Principal, Scope

router = APIRouter(prefix="/v1/realtime", tags=["realtime"], responses=problem_responses(422))


def _channel_of(principal: Principal) -> str:
    view = principal.access(Scope.VIEW)
    if view is Access.DISABLED:
        raise forbidden("customers_segment_view is disabled for this user")
    if view is Access.OWNED:
        return owner_channel(principal.account_id, principal.user_id)
    return account_channel(principal.account_id)


@router.get("/channel", responses=problem_responses(401, 403))
async def realtime_channel(request: Request, principal: CurrentPrincipal) -> RealtimeChannel:
    settings = request.app.state.settings
    return RealtimeChannel(
        channel=_channel_of(principal),
        events=[STATUS_EVENT, CHANGE_EVENT],
        websocket_path="/v1/ws",
        pusher=PusherClient(
            key=settings.pusher_key,
            host=settings.pusher_browser_host or settings.pusher_host,
            port=settings.pusher_browser_port or settings.pusher_port,
            tls=settings.pusher_ssl,
        ),
    )


@router.post("/pusher/auth", responses=problem_responses(401, 403))
async def pusher_auth(
    request: Request,
    principal: CurrentPrincipal,
    socket_id: Annotated[str, Form(pattern=r"^\d+\.\d+$")],
    channel_name: Annotated[str, Form(max_length=200)],
) -> PusherAuth:
    if channel_name != _channel_of(principal):
        raise forbidden("a token may subscribe to its own channel only (GET /v1/realtime/channel)")
    signed = request.app.state.pusher.authenticate(channel=channel_name, socket_id=socket_id)
    return PusherAuth(auth=signed["auth"])
