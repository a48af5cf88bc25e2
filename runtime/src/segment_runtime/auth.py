"""Bearer tokens: who is calling, for which account, with which permissions.

Claims: `sub` (user id), `account_id`, and `permissions`, a map of the four
segment scopes to `all`, `owned` or `disabled`. HS256 with a shared secret in
development; RS256 with keys from a JWKS URL in production.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import jwt
from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.clock import SYSTEM_CLOCK, Clock
from segment_runtime.settings import AuthSettings


class Scope(StrEnum):
    VIEW = "customers_segment_view"
    ADD = "customers_segment_add"
    MANAGE = "customers_segment_manage"
    ARCHIVED = "customers_segment_archived"
    # Which customers the user may see listed (the matched-customer table): all of them,
    # those they added, or none. Tokens without it see all, as before it existed.
    CUSTOMERS = "customers_view"
    # Platform staff: may set any account's plan. Never granted by default.
    OPERATOR = "platform_operator"


class Access(StrEnum):
    ALL = "all"
    OWNED = "owned"
    DISABLED = "disabled"


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: UUID
    user_id: str
    permissions: dict[Scope, Access]

    def access(self, scope: Scope) -> Access:
        return self.permissions.get(scope, Access.DISABLED)

    @property
    def customer_scope(self) -> Access:
        return self.permissions.get(Scope.CUSTOMERS, Access.ALL)

    def sees(self, created_by: str | None) -> bool:
        """The one visibility rule, for every route and push: a view scope of `all` sees
        the account's segments, `owned` only those the user created, `disabled` none."""
        view = self.access(Scope.VIEW)
        return view is Access.ALL or (view is Access.OWNED and created_by == self.user_id)

    @property
    def owner_filter(self) -> str | None:
        """The `created_by` a query must match for this user, or None for the whole account
        (callers check that viewing is not disabled first)."""
        return self.user_id if self.access(Scope.VIEW) is Access.OWNED else None


class InvalidTokenError(Exception):
    pass


class TokenVerifier:
    # Verified tokens, until they expire: a browser sends the same token with every
    # request, and checking its signature again was a sixth of a cached read's time.
    CACHED_TOKENS = 4096

    def __init__(self, settings: AuthSettings, clock: Clock = SYSTEM_CLOCK) -> None:
        self._settings = settings
        self._clock = clock
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        if self._jwks is None and settings.jwt_secret is None:
            raise ValueError("set JWT_SECRET (development) or JWT_JWKS_URL (production)")
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if self._clock.now().timestamp() < expires:
                return principal
            del self._verified[token]  # expired: verified again below, and refused
        principal, expires = self._verify(token)
        if len(self._verified) >= self.CACHED_TOKENS:
            self._verified.pop(next(iter(self._verified)))  # the oldest goes
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256"]
            else:
                assert self._settings.jwt_secret is not None
                key = self._settings.jwt_secret.get_secret_value()
                algorithms = ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "sub"]},
            )
            principal = Principal(
                account_id=claims["account_id"],
                user_id=claims["sub"],
                permissions=claims.get("permissions", {}),
            )
            return principal, float(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValidationError) as exc:
            raise InvalidTokenError(str(exc)) from exc


ALL_ACCESS: dict[Scope, Access] = {s: Access.ALL for s in Scope if s is not Scope.OPERATOR}


def issue_token(
    secret: str,
    *,
    account_id: UUID,
    user_id: str,
    permissions: dict[Scope, Access] | None = None,
    audience: str = "segment-platform",
    ttl: timedelta = timedelta(days=30),
) -> str:
    """An HS256 token, for development and tests only."""
    now = SYSTEM_CLOCK.now()
    claims = {
        "sub": user_id,
        "account_id": str(account_id),
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "permissions": {str(k): str(v) for k, v in (permissions or ALL_ACCESS).items()},
    }
    return jwt.encode(claims, secret, algorithm="HS256")
