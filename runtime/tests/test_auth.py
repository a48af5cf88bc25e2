from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import jwt
import pytest
from pydantic import SecretStr

from contracts.clock import SYSTEM_CLOCK, FixedClock
from segment_runtime.auth import Access, InvalidTokenError, Scope, TokenVerifier, issue_token
from segment_runtime.settings import AuthSettings

SECRET = "test-secret-of-sufficient-length-123"


def verifier() -> TokenVerifier:
    return TokenVerifier(AuthSettings.model_validate({"JWT_SECRET": SecretStr(SECRET)}))


def test_a_token_names_its_account_user_and_permissions():
    account = uuid4()
    token = issue_token(
        SECRET, account_id=account, user_id="u1", permissions={Scope.VIEW: Access.OWNED}
    )
    principal = verifier().verify(token)
    assert principal.account_id == account and principal.user_id == "u1"
    assert principal.access(Scope.VIEW) is Access.OWNED
    assert principal.access(Scope.ADD) is Access.DISABLED  # absent means disabled


@pytest.mark.parametrize(
    "token",
    [
        issue_token("another-secret-of-sufficient-length", account_id=uuid4(), user_id="u"),
        issue_token(SECRET, account_id=uuid4(), user_id="u", ttl=timedelta(seconds=-5)),
        issue_token(SECRET, account_id=uuid4(), user_id="u", audience="someone-else"),
        jwt.encode(
            {"sub": "u", "aud": "segment-platform", "exp": 9999999999}, SECRET
        ),  # no account
        jwt.encode(
            {"sub": "u", "account_id": str(uuid4()), "aud": "segment-platform", "exp": 9999999999},
            SECRET + "-but-signed-with-another-algorithm",
            algorithm="HS512",
        ),
        "not-a-token",
    ],
)
def test_bad_tokens_are_refused(token):
    with pytest.raises(InvalidTokenError):
        verifier().verify(token)


def test_a_verifier_needs_a_key_source():
    with pytest.raises(ValueError, match="JWT_SECRET"):
        TokenVerifier(AuthSettings.model_validate({}))


def test_a_verified_token_is_remembered_only_until_it_expires(monkeypatch):
    clock = FixedClock(SYSTEM_CLOCK.now())
    v = TokenVerifier(AuthSettings.model_validate({"JWT_SECRET": SecretStr(SECRET)}), clock)
    token = issue_token(SECRET, account_id=uuid4(), user_id="u", ttl=timedelta(minutes=5))
    first = v.verify(token)
    calls: list[str] = []
    real = v._verify
    monkeypatch.setattr(v, "_verify", lambda t: calls.append(t) or real(t))
    assert v.verify(token) == first and calls == []  # no second signature check
    clock.advance(timedelta(seconds=301))
    v.verify(token)  # past its expiry by our clock: checked again (PyJWT's own clock decides)
    assert calls == [token]


def test_the_remembered_tokens_are_bounded(monkeypatch):
    v = verifier()
    monkeypatch.setattr(TokenVerifier, "CACHED_TOKENS", 3)
    tokens = [issue_token(SECRET, account_id=uuid4(), user_id=f"u{i}") for i in range(5)]
    for t in tokens:
        v.verify(t)
    assert list(v._verified) == tokens[2:]  # the oldest went first
