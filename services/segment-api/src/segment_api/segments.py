"""Segment use cases. Each change is one transaction holding the rows and their outbox
messages (`unit_of_work.changing`), checked by `policy`, its rules by `rule_input`."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from uuid import UUID, uuid4

import asyncpg
from fastapi.encoders import jsonable_encoder

from compiler import statements
from compiler.sql import Target
from contracts.catalog import Catalog
from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.messages import ChangeKind
from contracts.warehouse import dataset_id
from segment_api import announcements, embedding, limits, policy, repository, rule_input
from segment_api.cache import Cache
from segment_api.policy import require_scope
from segment_api.ports import Warehouse
from segment_api.problems import FieldError, ProblemError, forbidden, invalid_rules
from segment_api.provisioning import provision
from segment_api.rows import SegmentRow
from segment_api.schemas import (
    NAME_MAX,
    BuildOut,
    DryRunOut,
    EmbeddableOut,
    ListQuery,
    RefreshRun,
    RulesInput,
    SegmentCreate,
    SegmentOut,
    SegmentPage,
    SegmentPatch,
    ValidateRequest,
    ValidationOut,
)
from segment_api.unit_of_work import changing
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Connection, Pool

_WARNINGS = {
    "in_progress": "still building",
    "pending": "still building",
    "failed": "its last build failed",
    "canceled": "its last build failed",
    "skipped": "its last build was skipped",
}


def present(row: SegmentRow, catalog: Catalog) -> SegmentOut:
    """The segment as the API shows it: both rule forms, and its latest build."""
    build = (
        BuildOut.model_validate(
            {
                "id": row.build_id,
                "state": row.build_state,
                "cause": row.build_cause,
                "since": row.build_since,
                "reason": row.build_reason,
                "rules_version": row.build_rules_version,
                "waiting": row.build_waiting,
            }
        )
        if row.build_id
        else None
    )
    rule_set, note = rule_input.shown(row.rule_set, catalog)
    return SegmentOut.model_validate(
        {
            **row.model_dump(),
            "object": row.object_type,
            "build": build,
            "rule_set": rule_set,
            "rule_set_note": note,
        }
    )


class SegmentService:
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

    def _change(self, principal: Principal) -> AbstractAsyncContextManager[Connection]:
        return changing(self._pool, self.cache, principal.account_id)

    async def _present(self, account_id: UUID, rows: list[SegmentRow]) -> list[SegmentOut]:
        async with self._pool.acquire() as conn:
            catalog = await account_catalog(conn, account_id)
        return [present(r, catalog) for r in rows]

    async def _one(self, principal: Principal, row: SegmentRow) -> SegmentOut:
        (out,) = await self._present(principal.account_id, [row])
        return out

    # --- reads -----------------------------------------------------------------------

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
                items=await self._present(principal.account_id, rows),
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
            zone = await repository.account_time_zone(conn, principal.account_id)
        target = Target(self._warehouse.project(), dataset_id(principal.account_id))
        # What a build reads and writes into the log: its dry run says the bytes a build
        # scans (the MERGE itself needs the segment's log, which a new segment has not).
        compiled = statements.members_query(statements.membership(checked.typed, target))
        params = compiled.bind(at=self._clock.now(), today=self._clock.today(zone))
        rules = checked.rules
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

    # --- changes ---------------------------------------------------------------------

    async def create(self, principal: Principal, body: SegmentCreate) -> SegmentOut:
        require_scope(principal, Scope.ADD)
        segment_id = uuid4()
        async with self._change(principal) as conn:
            await provision(conn, principal)
            await limits.within_plan(conn, principal.account_id)
            rules = (await rule_input.checked(conn, principal, body, segment_id=segment_id)).rules
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
                raise policy.name_taken(body.name) from exc
            await rule_input.record_embeddings(conn, segment_id, rules)
            await announcements.segment_changed(conn, principal, row, ChangeKind.CREATED)
        return await self._one(principal, row)

    async def update(
        self, principal: Principal, segment_id: UUID, body: SegmentPatch
    ) -> SegmentOut:
        async with self._change(principal) as conn:
            row = await policy.locked(conn, principal, segment_id, Scope.MANAGE)
            rules = None
            if body.rules_given():
                given = RulesInput.model_validate(
                    {
                        "rules": body.rules,
                        "rule_set": body.rule_set,
                        "rule_groups": body.rule_groups,
                        "conjunction": body.conjunction,
                    }
                )
                rules = (
                    await rule_input.checked(conn, principal, given, segment_id=segment_id)
                ).rules
                if rules.object != row.object_type:
                    raise ProblemError(
                        422,
                        "invalid_condition",
                        "The object cannot change",
                        errors=[
                            FieldError(
                                path="rules.object",
                                code="object_changed",
                                message="a segment keeps its object",
                            )
                        ],
                    )
                await rule_input.record_embeddings(conn, segment_id, rules)
            changed = rules is not None and rules.model_dump(mode="json") != row.rules
            try:
                row = await repository.update_segment(
                    conn,
                    segment_id,
                    name=body.name or row.name,
                    description=body.description
                    if "description" in body.model_fields_set
                    else row.description,
                    rules=rules.model_dump(mode="json") if rules else row.rules,
                    rules_changed=changed,
                )
            except asyncpg.UniqueViolationError as exc:
                raise policy.name_taken(body.name or "") from exc
            await announcements.segment_changed(
                conn, principal, row, ChangeKind.UPDATED, rules_changed=changed
            )
        return await self._one(principal, row)

    async def archive(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        async with self._change(principal) as conn:
            await policy.locked(conn, principal, segment_id, Scope.ARCHIVED)
            await policy.refuse_if_embedded(conn, principal, segment_id, "archived")
            row = await repository.set_status(conn, segment_id, "archived")
            await announcements.segment_changed(
                conn, principal, row, ChangeKind.ARCHIVED, rules_changed=False
            )
        return await self._one(principal, row)

    async def unarchive(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        async with self._change(principal) as conn:
            await policy.locked(conn, principal, segment_id, Scope.ARCHIVED)
            await limits.within_plan(conn, principal.account_id)
            try:
                row = await repository.set_status(conn, segment_id, "active")
            except asyncpg.UniqueViolationError as exc:
                raise policy.name_taken("this name") from exc
            await announcements.segment_changed(conn, principal, row, ChangeKind.UNARCHIVED)
        return await self._one(principal, row)

    async def delete(self, principal: Principal, segment_id: UUID) -> None:
        async with self._change(principal) as conn:
            row = await policy.locked(conn, principal, segment_id, Scope.MANAGE)
            await policy.refuse_if_embedded(conn, principal, segment_id, "deleted")
            await repository.delete_segment(conn, segment_id)
            await announcements.segment_changed(
                conn, principal, row, ChangeKind.DELETED, rules_changed=False
            )

    async def duplicate(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        require_scope(principal, Scope.ADD)
        async with self._change(principal) as conn:
            original = await policy.visible(conn, principal, segment_id)
            await limits.within_plan(conn, principal.account_id)
            copy_id = uuid4()
            name = await repository.free_copy_name(
                conn, principal.account_id, original.name, NAME_MAX
            )
            row = await repository.insert_segment(
                conn,
                segment_id=copy_id,
                account_id=principal.account_id,
                name=name,
                description=original.description,
                object_type=original.object_type,
                rules=original.rules,
                created_by=principal.user_id,
            )
            rules = original.rule_set
            if rules is not None:
                errors = await rule_input.embedding_errors(conn, principal, copy_id, rules)
                if errors:
                    raise invalid_rules(errors)
                await rule_input.record_embeddings(conn, copy_id, rules)
            await announcements.segment_changed(conn, principal, row, ChangeKind.CREATED)
        return await self._one(principal, row)

    async def rebuild(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        """Asks the scheduler to rebuild the segment and, after it, what embeds it."""
        async with self._change(principal) as conn:
            row = await policy.locked(conn, principal, segment_id, Scope.MANAGE, rebuilding=True)
            policy.refuse_if_archived(row)
            await announcements.rebuild_requested(conn, principal, segment_id)
        return await self._one(principal, row)

    async def refresh_all(self, principal: Principal) -> RefreshRun:
        """The first document's "expire all": a refresh run over every active segment, which
        the scheduler plans in dependency order."""
        if require_scope(principal, Scope.MANAGE) is not Access.ALL:
            raise forbidden("refreshing every segment needs customers_segment_manage = all")
        run_id = uuid4()
        async with self._change(principal) as conn:
            await provision(conn, principal)
            active = await repository.active_segments(conn, principal.account_id)
            await announcements.refresh_requested(conn, principal, run_id)
        return RefreshRun(run_id=run_id, segments=len(active))
