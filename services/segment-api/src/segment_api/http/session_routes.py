"""Browser sessions: a token traded for an httpOnly cookie and a CSRF token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.params import Body
from pydantic import BaseModel, Field

from segment_api.http.deps import CurrentPrincipal
from segment_api.http.problems import ProblemError, problem_responses
from segment_api.http.session import close_session, open_session
from segment_runtime.auth import InvalidTokenError, TokenVerifier

router = APIRouter(prefix="/v1/session", tags=["session"], responses=problem_responses(401))


class SessionIn(BaseModel):
    token: str = Field(description="A token the identity provider issued.", min_length=10)


class SessionOut(BaseModel):
    account_id: UUID
    user_id: str
    csrf_token: str = Field(description="Echo it in X-CSRF-Token on POST, PUT, PATCH, DELETE.")
    expires_at: datetime


@router.post("", responses=problem_responses(422))
async def open_browser_session(
    request: Request, response: Response, body: Annotated[SessionIn, Body()]
) -> SessionOut:
    """Trade a token for the session cookie (httpOnly) and the CSRF cookie."""
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = verifier.verify(body.token)
    except InvalidTokenError as exc:
        raise ProblemError(401, "unauthorized", "Authentication required", "invalid token") from exc
    csrf, until = open_session(
        response, body.token, secure=request.app.state.settings.session_cookie_secure
    )
    return SessionOut(
        account_id=principal.account_id,
        user_id=principal.user_id,
        csrf_token=csrf,
        expires_at=until,
    )


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def close_browser_session(response: Response, principal: CurrentPrincipal) -> None:
    """Forget the session cookies."""
    del principal
    close_session(response)
