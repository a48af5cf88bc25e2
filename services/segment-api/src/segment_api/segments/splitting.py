"""A segment's split: checked against the plan, laid out so that an edit moves only the
members it must (`contracts.splits`), stored on the segment, and shown without its
slots and seed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from contracts.limits import DEFAULT_PLAN, PLANS
from contracts.splits import Split, SplitIn, layout
from segment_api.accounts import repository as accounts_repository
from segment_api.http.problems import FieldError, ProblemError
from segment_api.segments.schemas import SplitOut
from segment_runtime.db import Connection


async def _checked(conn: Connection, account_id: UUID, wanted: SplitIn) -> None:
    """Every problem of the split at once, each naming its field."""
    plan = PLANS.get(await accounts_repository.account_plan(conn, account_id), PLANS[DEFAULT_PLAN])
    problems = [(f"split.{path}", code, message) for path, code, message in wanted.problems()]
    if len(wanted.buckets) > plan.max_split_buckets:
        limit = f"this plan allows {plan.max_split_buckets} buckets"
        problems.append(("split.buckets", "limit_exceeded", limit))
    if problems:
        raise ProblemError(
            422,
            "invalid_split",
            "The split is invalid",
            errors=[FieldError(path=p, code=c, message=m) for p, c, m in problems],
        )


async def laid_out(
    conn: Connection, account_id: UUID, wanted: SplitIn | None, stored: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The split to store for `wanted` (None: no split): the stored one itself when the
    buckets and shares are the same, else a new layout that moves as few slots as it can."""
    if wanted is None:
        return None
    await _checked(conn, account_id, wanted)
    previous = Split.model_validate(stored) if stored else None
    if previous is not None and [(b.name, b.percent) for b in previous.buckets] == [
        (b.name, b.percent) for b in wanted.buckets
    ]:
        return stored
    return layout(wanted, previous).model_dump(mode="json")


def shown(stored: dict[str, Any] | None) -> SplitOut | None:
    if stored is None:
        return None
    split = Split.model_validate(stored)
    return SplitOut.model_validate(
        {"buckets": [{"name": b.name, "percent": b.percent} for b in split.buckets]}
    )
