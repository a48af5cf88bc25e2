"""Accounts come from the identity provider: the first request of an account provisions
its row and its default "All Data" segment (announced, so it gets built)."""

from __future__ import annotations

from contracts.messages import ChangeKind
from segment_api.accounts import repository as accounts_repository
from segment_api.segments import announcements, repository
from segment_runtime.auth import Principal
from segment_runtime.db import Connection


async def provision(conn: Connection, principal: Principal) -> None:
    await accounts_repository.ensure_account(conn, principal.account_id)
    default = await repository.ensure_default_segment(conn, principal.account_id)
    if default is not None:
        await announcements.segment_changed(conn, principal, default, ChangeKind.CREATED)
