"""Production tokens: RS256, keys fetched from a JWKS URL (served here on loopback)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import uuid4

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from segment_runtime.auth import InvalidTokenError, TokenVerifier
from segment_runtime.settings import AuthSettings

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


def token(key, kid: str = "k1", **claims) -> str:
    now = datetime.now(UTC)
    body = {
        "sub": "u1",
        "account_id": str(uuid4()),
        "aud": "segment-platform",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "permissions": {"customers_segment_view": "all"},
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def test_rs256_tokens_are_verified_against_the_jwks(jwks_url):
    verifier = TokenVerifier(AuthSettings.model_validate({"JWT_JWKS_URL": jwks_url}))
    principal = verifier.verify(token(KEY))
    assert principal.user_id == "u1"


@pytest.mark.parametrize("bad", ["other_key", "expired", "hs256"])
def test_tokens_not_signed_by_the_published_key_are_refused(jwks_url, bad):
    verifier = TokenVerifier(AuthSettings.model_validate({"JWT_JWKS_URL": jwks_url}))
    if bad == "other_key":
        forged = token(OTHER)
    elif bad == "expired":
        forged = token(KEY, exp=datetime.now(UTC) - timedelta(seconds=1))
    else:  # an HS256 token must not pass where RS256 keys are expected
        forged = jwt.encode(
            {
                "sub": "u",
                "account_id": str(uuid4()),
                "aud": "segment-platform",
                "exp": datetime.now(UTC) + timedelta(minutes=1),
            },
            "secret-of-sufficient-length-for-hs256-x",
            algorithm="HS256",
            headers={"kid": "k1"},
        )
    with pytest.raises(InvalidTokenError):
        verifier.verify(forged)
