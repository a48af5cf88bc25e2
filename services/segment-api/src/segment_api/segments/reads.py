"""Segment reads: one segment, a page of them, what a segment may embed, and a dry run of
rules before they are saved. Reads go through the cache; each is checked by `policy`."""

from __future__ import annotations

from uuid import UUID

from fastapi.encoders import jsonable_encoder

from compiler import statements
from compiler.sql import Target
from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.warehouse import dataset_id
from segment_api.accounts import repository as accounts_repository
from segment_api.http.problems import ProblemError
from segment_api.segments import embedding, repository, rule_input
from segment_api.segments.provisioning import provision
from segment_api.segments.schemas import (
    DryRunOut,
    EmbeddableOut,
    ListQuery,
    SegmentOut,
    SegmentPage,
    ValidateRequest,
    ValidationOut,
)
from segment_api.segments.use_cases import present, present_rows
from segment_api.shared import cost, policy
from segment_api.shared.cache import Cache
from segment_api.shared.policy import require_scope
from segment_api.shared.ports import Warehouse
from segment_api.shared.rows import SegmentRow
from segment_runtime.auth import Principal, Scope
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Pool

_WARNINGS = {
    "in_progress": "still building",
    "pending": "still building",
    "failed": "its last build failed",
    "canceled": "its last build failed",
    "skipped": "its last build was skipped",
}


class SegmentReads:
    def __init__(
        self,
        pool: Pool,
        warehouse: Warehouse,
        cache: Cache | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._warehouse = warehouse
        self.cache = cache or Cache(None, "none")
        self._provisioned_accounts: set[UUID] = set()

    async def show(self, principal: Principal, segment_id: UUID) -> bytes:
        """A segment the caller may see, as JSON, read through the cache. The key holds the
        caller's visibility class (the whole account, or one owner), so a hit was checked
        by policy.visible for that class when it was computed."""
        require_scope(principal, Scope.VIEW)

        async def compute() -> SegmentOut:
            async with self._pool.acquire() as conn:
                row = await policy.visible(conn, principal, segment_id)
                catalog = await account_catalog(conn, principal.account_id)
            return present(row, catalog)

        return await self.cache.through_json(
            principal.account_id,
            "segment",
            [str(segment_id), principal.owner_filter],
            compute=compute,
        )

    async def _provisioned(self, principal: Principal) -> None:
        """Once per account and process: provisioning is idempotent, but a write per read
        was the list route's largest cost."""
        if principal.account_id in self._provisioned_accounts:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await provision(conn, principal)
        self._provisioned_accounts.add(principal.account_id)

    async def page(self, principal: Principal, query: ListQuery) -> bytes:
        """The page as JSON (a cached page goes out as stored)."""
        require_scope(principal, Scope.VIEW)
        await self._provisioned(principal)
        owner = principal.owner_filter

        async def compute() -> SegmentPage:
            async with self._pool.acquire() as conn:
                rows, total = await repository.list_segments(
                    conn,
                    principal.account_id,
                    created_by=owner,
                    search=query.search,
                    status=query.status,
                    object_type=query.object,
                    created_from=query.created_at_from,
                    created_to=query.created_at_to,
                    sort=query.sort,
                    limit=query.per_page,
                    offset=(query.page - 1) * query.per_page,
                )
            return SegmentPage(
                items=await present_rows(self._pool, principal.account_id, rows),
                page=query.page,
                per_page=query.per_page,
                total=total,
            )

        return await self.cache.through_json(
            principal.account_id, "list", [owner, query.model_dump(mode="json")], compute=compute
        )

    async def embeddable(
        self, principal: Principal, object_type: str, own: SegmentRow | None
    ) -> list[EmbeddableOut]:
        """Custom segments of the object type that the segment may embed: not itself, and
        none that already embeds it; those still building or failed carry a warning."""
        require_scope(principal, Scope.VIEW)
        segment_id = own.id if own else None
        if own is not None:
            object_type = own.object_type
        async with self._pool.acquire() as conn:
            graph = await repository.embedding_graph(conn, principal.account_id)
            rows = await repository.active_segments(conn, principal.account_id)
        return [
            EmbeddableOut(
                id=r.id,
                name=r.name,
                build_status=r.build_status,
                warning=_WARNINGS.get(r.build_status),
            )
            for r in rows
            if r.is_custom
            and r.object_type == object_type
            and r.id != segment_id
            and principal.sees(r.created_by)
            and not (segment_id and embedding.reaches(graph, r.id, segment_id))
        ]

    async def validate(self, principal: Principal, body: ValidateRequest) -> ValidationOut:
        """Every error with its path, or the build statement and a BigQuery dry run of it."""
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            try:
                checked = await rule_input.checked(conn, principal, body)
            except ProblemError as exc:
                return ValidationOut(valid=False, errors=exc.problem.errors)
            # Relative windows count back from today in the account's zone, as in a build.
            schedule = await accounts_repository.refresh_schedule(conn, principal.account_id)
            zone = schedule.time_zone
        target = Target(self._warehouse.project(), dataset_id(principal.account_id))
        # What a build reads and writes into the log: its dry run says the bytes a build
        # scans (the MERGE itself needs the segment's log, which a new segment has not).
        compiled = statements.members_query(statements.membership(checked.typed, target))
        params = compiled.bind(at=self._clock.now(), today=self._clock.today(zone))
        rules = checked.rules
        result = await self._warehouse.dry_run(compiled.sql, params)
        spend = cost.of(result, schedule, self._clock.now())
        return ValidationOut(
            valid=result.ok,
            rules=rules,
            sql=compiled.sql,
            parameters=jsonable_encoder(params),
            dry_run=DryRunOut(
                ok=result.ok, error=result.error, bytes_processed=result.bytes_processed
            ),
            cost=spend,
        )
