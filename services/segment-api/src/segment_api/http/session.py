"""A browser session: the token in an httpOnly cookie instead of a bearer header, with a
double-submit CSRF token for the requests that change something.

`POST /v1/session` trades a token (bearer header or body) for two cookies: the session
(httpOnly, SameSite=Lax, so page scripts never read it) and a CSRF token the page reads
and echoes in `X-CSRF-Token` on POST, PUT, PATCH and DELETE. A cross-site page can make
the browser send the session cookie, but cannot read the CSRF cookie to echo it.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime

import jwt
from fastapi import Request, Response

from contracts.clock import SYSTEM_CLOCK, Clock

SESSION_COOKIE = "segp_session"
CSRF_COOKIE = "segp_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def expires_at(token: str) -> datetime:
    """The token's own expiry (its signature is checked by the caller first)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


def open_session(
    response: Response, token: str, *, secure: bool, clock: Clock = SYSTEM_CLOCK
) -> tuple[str, datetime]:
    until = expires_at(token)
    max_age = max(0, int((until - clock.now()).total_seconds()))
    csrf = secrets.token_urlsafe(32)
    common = {"max_age": max_age, "path": "/", "secure": secure, "samesite": "lax"}
    response.set_cookie(SESSION_COOKIE, token, httponly=True, **common)  # type: ignore[arg-type]
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, **common)  # type: ignore[arg-type]
    return csrf, until


def close_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def csrf_ok(request: Request) -> bool:
    """A cookie-authenticated change must echo the CSRF cookie in the header."""
    if request.method in SAFE_METHODS:
        return True
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    return bool(cookie) and hmac.compare_digest(cookie, header)
