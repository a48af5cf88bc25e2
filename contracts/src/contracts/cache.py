"""The gateway cache's keys: a per-account generation, bumped by the gateway on every
change and by the notifier on every finished build, and a shared epoch, bumped by
whoever could not bump a generation while Redis was away (once it is back)."""

from __future__ import annotations

from uuid import UUID


def cache_generation_key(prefix: str, account_id: UUID) -> str:
    return f"{prefix}:cache:gen:{account_id.hex}"


def cache_epoch_key(prefix: str) -> str:
    return f"{prefix}:cache:epoch"
