"""The plan's cap on active segments."""

from __future__ import annotations

from uuid import UUID

from contracts.limits import DEFAULT_PLAN, PLANS
from segment_api.accounts import repository as accounts_repository
from segment_api.http.problems import ProblemError
from segment_api.segments import repository
from segment_runtime.db import Connection


async def within_plan(conn: Connection, account_id: UUID) -> None:
    """Checked under the embedding lock, so two concurrent creates cannot both take the
    last place."""
    await repository.lock_embeddings(conn, account_id)
    limits = PLANS.get(
        await accounts_repository.account_plan(conn, account_id), PLANS[DEFAULT_PLAN]
    )
    if await repository.count_active_custom(conn, account_id) >= limits.max_segments:
        # 409 is the RFC frontend's "Segment limit reached".
        raise ProblemError(
            409,
            "limit_reached",
            "Segment limit reached",
            f"this plan allows {limits.max_segments} active segments",
        )
