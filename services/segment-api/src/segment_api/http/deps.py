"""Request dependencies: the caller, the pool, the services; as Annotated aliases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from segment_api.accounts.use_cases import Accounts
from segment_api.as_code.use_cases import SegmentsAsCode
from segment_api.builds.changes import MembershipChanges
from segment_api.builds.history import BuildHistory
from segment_api.explain.use_cases import Explanations
from segment_api.http.problems import ProblemError
from segment_api.http.ratelimit import RateLimiter
from segment_api.http.session import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, csrf_ok
from segment_api.insights.use_cases import Insights
from segment_api.overlap.use_cases import Overlaps
from segment_api.palette.use_cases import Palette
from segment_api.recipients.use_cases import Recipients
from segment_api.reports.use_cases import Reports
from segment_api.segments.reads import SegmentReads
from segment_api.segments.use_cases import SegmentService
from segment_runtime.auth import InvalidTokenError, Principal, TokenVerifier
from segment_runtime.logs import bind

T = TypeVar("T")

_bearer = HTTPBearer(auto_error=False, description="JWT issued for one account")


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "unauthorized",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The session cookie set by POST /v1/session (send X-CSRF-Token on changes)",
)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """The caller, from a bearer token or else the session cookie (whose changes must
    carry the CSRF token). Async so that what it binds for the logs stays in the
    request's context (a sync dependency runs in a thread's copy of it)."""
    if credentials is not None:
        token = credentials.credentials
    elif session:
        if not csrf_ok(request):
            raise ProblemError(
                403,
                "csrf_failed",
                "CSRF token missing or wrong",
                f"send the {CSRF_COOKIE} cookie's value in {CSRF_HEADER}",
            )
        token = session
    else:
        raise _unauthorized("missing bearer token or session cookie")
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = verifier.verify(token)
    except InvalidTokenError as exc:
        raise _unauthorized("invalid token") from exc
    bind(account_id=principal.account_id, user_id=principal.user_id)  # on every log line
    return principal


def _state(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency handing out the use case `wire()` put on the app's state. Async: a
    plain function would be run in a worker thread, a hop on every request."""

    async def get(request: Request) -> T:
        service = getattr(request.app.state, name)
        assert isinstance(service, kind)
        return service

    return get


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
ReportsDep = Annotated[Reports, Depends(_state("reports", Reports))]
PaletteDep = Annotated[Palette, Depends(_state("palette", Palette))]
InsightsDep = Annotated[Insights, Depends(_state("insights", Insights))]
ExplanationsDep = Annotated[Explanations, Depends(_state("explanations", Explanations))]
OverlapsDep = Annotated[Overlaps, Depends(_state("overlaps", Overlaps))]
AsCodeDep = Annotated[SegmentsAsCode, Depends(_state("as_code", SegmentsAsCode))]
Segments = Annotated[SegmentService, Depends(_state("segments", SegmentService))]
SegmentReadsDep = Annotated[SegmentReads, Depends(_state("segment_reads", SegmentReads))]
BuildsDep = Annotated[BuildHistory, Depends(_state("builds", BuildHistory))]
ChangesDep = Annotated[MembershipChanges, Depends(_state("changes", MembershipChanges))]
RecipientsDep = Annotated[Recipients, Depends(_state("recipients", Recipients))]
AccountsDep = Annotated[Accounts, Depends(_state("accounts", Accounts))]


def rate_limited(kind: str) -> Any:
    """A dependency charging one `kind` request to the caller's account."""

    async def check(request: Request, principal: CurrentPrincipal) -> None:
        limiter: RateLimiter | None = getattr(request.app.state, "limiter", None)
        if limiter is not None:
            await limiter.check(principal.account_id, kind)

    return Depends(check)
