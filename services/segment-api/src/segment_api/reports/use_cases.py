"""Segments applied to reports: up to four per user and report, sticky ones across all
reports, each optionally applied to the report's charts; and the SQL a report adds."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from compiler.sql import Target
from contracts.warehouse import dataset_id, segment_table
from segment_api.http.problems import FieldError, ProblemError, not_found
from segment_api.reports import repository as repo
from segment_api.segments.repository import segment_kinds
from segment_api.shared import member_queries
from segment_api.shared.policy import require_scope
from segment_api.shared.ports import Warehouse
from segment_runtime.auth import Principal, Scope
from segment_runtime.db import Connection, Pool

MAX_APPLIED = 4  # the first document's limit


class ApplySegments(BaseModel):
    segment_ids: list[UUID] = Field(max_length=MAX_APPLIED)
    sticky: bool = Field(False, description="Apply to every report of this user.")


class AppliedSegment(BaseModel):
    label: str = Field(description="S1 … S4, in order.")
    segment_id: UUID
    name: str
    sticky: bool
    apply_chart: bool


class ReportFilterOut(BaseModel):
    label: str
    segment_id: UUID
    cte_name: str
    cte_sql: str
    predicate_sql: str = Field(description="AND it into the report's WHERE clause.")


class ChartToggle(BaseModel):
    apply_chart: bool


async def _applied(conn: Connection, principal: Principal, report: str) -> list[dict[str, Any]]:
    """The caller's segments on the report that they may still see."""
    return await repo.applied(
        conn, principal.account_id, principal.user_id, report, created_by=principal.owner_filter
    )


class Reports:
    def __init__(self, pool: Pool, warehouse: Warehouse) -> None:
        self._pool = pool
        self._warehouse = warehouse

    async def applied(self, principal: Principal, report: str) -> list[AppliedSegment]:
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            rows = await _applied(conn, principal, report)
        return [
            AppliedSegment(
                label=f"S{i}",
                segment_id=r["segment_id"],
                name=r["name"],
                sticky=r["report_name"] == repo.STICKY,
                apply_chart=r["apply_chart"],
            )
            for i, r in enumerate(rows, 1)
        ]

    async def apply(
        self, principal: Principal, report: str, body: ApplySegments
    ) -> list[AppliedSegment]:
        require_scope(principal, Scope.VIEW)
        errors = [
            FieldError(path=f"segment_ids[{i}]", code="duplicate", message="applied twice")
            for i, sid in enumerate(body.segment_ids)
            if sid in body.segment_ids[:i]
        ]
        async with self._pool.acquire() as conn, conn.transaction():
            known = await segment_kinds(
                conn, principal.account_id, body.segment_ids, created_by=principal.owner_filter
            )
            errors += [
                FieldError(
                    path=f"segment_ids[{i}]",
                    code="not_found",
                    message="no such active segment in this account",
                )
                for i, sid in enumerate(body.segment_ids)
                if sid not in known or known[sid][1] != "active"
            ]
            if errors:
                raise ProblemError(
                    422, "invalid_request", "The segments cannot be applied", errors=errors
                )
            scope = repo.STICKY if body.sticky else report
            await repo.replace(
                conn, principal.account_id, principal.user_id, scope, body.segment_ids
            )
            rows = await _applied(conn, principal, report)
            if len({r["segment_id"] for r in rows}) > MAX_APPLIED:
                raise ProblemError(
                    409,
                    "limit_reached",
                    f"At most {MAX_APPLIED} segments per report",
                    "sticky segments count towards every report",
                )
        return await self.applied(principal, report)

    async def remove(self, principal: Principal, report: str, segment_id: UUID) -> None:
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            if not await repo.remove(
                conn,
                principal.account_id,
                principal.user_id,
                report,
                segment_id,
                created_by=principal.owner_filter,
            ):
                raise not_found("applied segment")

    async def chart(
        self, principal: Principal, report: str, segment_id: UUID, body: ChartToggle
    ) -> list[AppliedSegment]:
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            if not await repo.set_chart(
                conn,
                principal.account_id,
                principal.user_id,
                report,
                segment_id,
                apply_chart=body.apply_chart,
                created_by=principal.owner_filter,
            ):
                raise not_found("applied segment")
        return await self.applied(principal, report)

    async def filters(
        self, principal: Principal, report: str, alias: str, id_column: str
    ) -> list[ReportFilterOut]:
        """For each applied, built segment: a CTE and a predicate on `alias`.`id_column`."""
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            rows = await _applied(conn, principal, report)
        target = Target(self._warehouse.project(), dataset_id(principal.account_id))
        out = []
        for i, r in enumerate(rows, 1):
            if r["built"]:
                f = member_queries.report_filter(
                    target, segment_table(r["segment_id"]), alias, id_column
                )
                out.append(
                    ReportFilterOut(
                        label=f"S{i}",
                        segment_id=r["segment_id"],
                        cte_name=f.cte_name,
                        cte_sql=f.cte_sql,
                        predicate_sql=f.predicate_sql,
                    )
                )
        return out
