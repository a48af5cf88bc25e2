"""Segment use cases: each writes Postgres and its outbox message in one transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg
from compiler.typed import check
from contracts.messages import ChangeKind, SegmentChanged, SegmentChangedData
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.db import Pool
from segment_runtime.outbox import enqueue

from segment_api import repository
from segment_api.problems import ProblemError, forbidden, invalid_rules, not_found
from segment_api.schemas import SegmentCreate, SegmentOut

SOURCE = "segment-api"


def _out(row: dict[str, Any]) -> SegmentOut:
    return SegmentOut.model_validate({**row, "object": row["object_type"]})


def _require(principal: Principal, scope: Scope) -> Access:
    access = principal.access(scope)
    if access is Access.DISABLED:
        raise forbidden(f"{scope} is disabled for this user")
    return access


class SegmentService:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def create(self, principal: Principal, body: SegmentCreate) -> SegmentOut:
        _require(principal, Scope.ADD)
        errors = check(body.rules)
        if errors:
            raise invalid_rules(errors)
        segment_id = uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.ensure_account(conn, principal.account_id)
            try:
                row = await repository.insert_segment(
                    conn,
                    segment_id=segment_id,
                    account_id=principal.account_id,
                    name=body.name,
                    description=body.description,
                    object_type=body.rules.object,
                    rules=body.rules.model_dump(mode="json"),
                    created_by=principal.user_id,
                )
            except asyncpg.UniqueViolationError as exc:
                raise ProblemError(
                    409,
                    "name_taken",
                    "Name already in use",
                    f"an active segment is already named '{body.name}'",
                ) from exc
            await enqueue(
                conn,
                SegmentChanged(
                    source=SOURCE,
                    accountid=principal.account_id,
                    correlationid=uuid4(),
                    data=SegmentChangedData(
                        segment_id=segment_id,
                        change=ChangeKind.CREATED,
                        rules_version=row["rules_version"],
                    ),
                ),
            )
        return _out(row)

    async def get(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        access = _require(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            row = await repository.get_segment(conn, principal.account_id, segment_id)
        if row is None or (access is Access.OWNED and row["created_by"] != principal.user_id):
            raise not_found()
        return _out(row)

    async def list(
        self, principal: Principal, page: int, per_page: int
    ) -> tuple[list[SegmentOut], int]:
        access = _require(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            rows, total = await repository.list_segments(
                conn,
                principal.account_id,
                created_by=principal.user_id if access is Access.OWNED else None,
                limit=per_page,
                offset=(page - 1) * per_page,
            )
        return [_out(r) for r in rows], total
