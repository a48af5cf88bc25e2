"""The correlation id: one id from the click to the push.

It enters at the HTTP request (a UUID `X-Request-ID`, or the trace id of a W3C
`traceparent`, or a new one), is returned in the response, travels as every
message's `correlationid` and every push's `correlation_id`, and is bound to every
log line written while a request or message is handled: `grep <id>` over the
services' logs follows one change through the platform.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import structlog

_current: ContextVar[UUID | None] = ContextVar("correlation_id", default=None)
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def from_headers(headers: Mapping[str, str]) -> UUID:
    """The caller's id: X-Request-ID (a UUID, or any text hashed into one), else the
    traceparent's trace id, else a new one."""
    given = headers.get("x-request-id", "").strip()
    if given:
        try:
            return UUID(given)
        except ValueError:
            return uuid5(NAMESPACE_URL, given[:200])
    trace = _TRACEPARENT.match(headers.get("traceparent", "").strip())
    if trace and trace.group(1) != "0" * 32:
        return UUID(hex=trace.group(1))
    return uuid4()


def current() -> UUID:
    """The id of what is being handled; a new one outside any request or message."""
    return _current.get() or uuid4()


@contextmanager
def correlated(correlation_id: UUID, **context: Any) -> Iterator[None]:
    """While handling one request or message: the id, and `context` on every log line.
    The id reaches the lines through `add_correlation_id`, not structlog's bound context:
    binding it copied the whole context on every request, a tenth of a cached read."""
    token = _current.set(correlation_id)
    values = {k: str(v) for k, v in context.items() if v is not None}
    try:
        if values:
            with structlog.contextvars.bound_contextvars(**values):
                yield
        else:
            yield
    finally:
        _current.reset(token)


def add_correlation_id(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: the id of what is being handled, on each of its lines."""
    cid = _current.get()
    if cid is not None:
        event.setdefault("correlation_id", str(cid))
    return event


def message_context(body: bytes) -> tuple[UUID | None, dict[str, Any]]:
    """A message's correlation id and what it concerns, read from its envelope.

    Never raises: it runs before the dead-letter middleware's guard, on bytes nobody has
    checked yet. A 100,000-deep array makes `json.loads` raise RecursionError, which is
    not a ValueError; letting it escape stalled the partition for good."""
    try:
        envelope = json.loads(body)
        data = envelope.get("data") or {}
        cid = UUID(str(envelope["correlationid"]))
        return cid, {
            "account_id": envelope.get("accountid"),
            "segment_id": data.get("segment_id"),
            "build_id": data.get("build_id"),
            "message_type": envelope.get("type"),
        }
    except Exception:
        return None, {}
