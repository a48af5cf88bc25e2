"""Segment use cases: each writes Postgres and its outbox message in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from fastapi.encoders import jsonable_encoder

from compiler import statements
from compiler.predicates import BUILD_DATE_PARAM
from compiler.statements import BUILD_TIME_PARAM, Target
from compiler.typed import check
from contracts.catalog import Catalog
from contracts.legacy import LegacyConversionError, from_legacy
from contracts.limits import DEFAULT_PLAN, PLANS
from contracts.messages import ChangeKind, SegmentChanged, SegmentChangedData
from contracts.rules import RuleSet
from contracts.warehouse import dataset_id
from segment_api import repository
from segment_api.ports import Warehouse
from segment_api.problems import FieldError, ProblemError, forbidden, invalid_rules, not_found
from segment_api.schemas import (
    DryRunOut,
    RulesInput,
    SegmentCreate,
    SegmentOut,
    ValidateRequest,
    ValidationOut,
)
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Connection, Pool
from segment_runtime.outbox import enqueue

SOURCE = "segment-api"


def _out(row: dict[str, Any]) -> SegmentOut:
    return SegmentOut.model_validate({**row, "object": row["object_type"]})


def _require(principal: Principal, scope: Scope) -> Access:
    access = principal.access(scope)
    if access is Access.DISABLED:
        raise forbidden(f"{scope} is disabled for this user")
    return access


def _canonical(body: RulesInput) -> RuleSet:
    if (body.rules is None) == (body.rule_groups is None):
        raise ProblemError(
            422,
            "invalid_request",
            "The request is invalid",
            "give exactly one shape",
            errors=[
                FieldError(
                    path="rules", code="missing", message="give exactly one of rules and ruleGroups"
                )
            ],
        )
    if body.rules is not None:
        return body.rules
    try:
        return from_legacy({"ruleGroups": body.rule_groups or [], "conjunction": body.conjunction})
    except LegacyConversionError as exc:
        raise ProblemError(
            422,
            "invalid_condition",
            "The rule groups could not be converted",
            f"{len(exc.errors)} error(s)",
            errors=[
                FieldError(path=p, code="invalid_legacy_rule", message=m) for p, m in exc.errors
            ],
        ) from exc


class SegmentService:
    def __init__(self, pool: Pool, warehouse: Warehouse) -> None:
        self._pool = pool
        self._warehouse = warehouse

    async def _checked(
        self, conn: Connection, account_id: UUID, body: RulesInput
    ) -> tuple[RuleSet, Catalog]:
        """The canonical rule set, checked against the account's catalog and plan."""
        rules = _canonical(body)
        catalog = await account_catalog(conn, account_id)
        limits = PLANS.get(await repository.account_plan(conn, account_id), PLANS[DEFAULT_PLAN])
        errors = check(rules, catalog, limits)
        if errors:
            raise invalid_rules(errors)
        return rules, catalog

    async def validate(self, principal: Principal, body: ValidateRequest) -> ValidationOut:
        """Every error with its path, or the build statement and a BigQuery dry run of it."""
        _require(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            try:
                rules, catalog = await self._checked(conn, principal.account_id, body)
            except ProblemError as exc:
                return ValidationOut(valid=False, errors=exc.problem.errors)
        target = Target(self._warehouse.project(), dataset_id(principal.account_id))
        compiled = statements.build(
            statements.membership(rules, target, catalog), "segment_validation"
        )
        params = compiled.bind(
            {BUILD_DATE_PARAM: datetime.now(UTC).date(), BUILD_TIME_PARAM: datetime.now(UTC)}
        )
        result = await self._warehouse.dry_run(compiled.sql, params)
        return ValidationOut(
            valid=result.ok,
            rules=rules,
            sql=compiled.sql,
            parameters=jsonable_encoder(params),
            dry_run=DryRunOut(
                ok=result.ok, error=result.error, bytes_processed=result.bytes_processed
            ),
        )

    async def create(self, principal: Principal, body: SegmentCreate) -> SegmentOut:
        _require(principal, Scope.ADD)
        segment_id = uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            await repository.ensure_account(conn, principal.account_id)
            rules, _ = await self._checked(conn, principal.account_id, body)
            try:
                row = await repository.insert_segment(
                    conn,
                    segment_id=segment_id,
                    account_id=principal.account_id,
                    name=body.name,
                    description=body.description,
                    object_type=rules.object,
                    rules=rules.model_dump(mode="json"),
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
