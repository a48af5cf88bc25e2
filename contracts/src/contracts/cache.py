"""The gateway cache's per-account generation key, bumped by the gateway on every
change and by the notifier on every finished build."""

from __future__ import annotations

from uuid import UUID


def cache_generation_key(prefix: str, account_id: UUID) -> str:
    return f"{prefix}:cache:gen:{account_id.hex}"
