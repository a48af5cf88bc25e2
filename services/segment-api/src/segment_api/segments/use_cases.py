"""Segment changes. Each is one transaction holding the rows and their outbox messages
(`unit_of_work.changing`), checked by `policy`, its rules by `rule_input`. What a
segment looks like in the API (`present`) is here too; the reads are `segment_reads`."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from uuid import UUID, uuid4

import asyncpg

from contracts.catalog import Catalog
from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.messages import ChangeKind
from segment_api.http.problems import FieldError, ProblemError, forbidden, invalid_rules
from segment_api.segments import announcements, limits, repository, rule_input, splitting
from segment_api.segments.provisioning import provision
from segment_api.segments.schemas import (
    BuildOut,
    RefreshRun,
    RulesInput,
    SegmentCreate,
    SegmentOut,
    SegmentPatch,
)
from segment_api.shared import policy
from segment_api.shared.cache import Cache
from segment_api.shared.policy import require_scope
from segment_api.shared.ports import Warehouse
from segment_api.shared.rows import SegmentRow
from segment_api.shared.schemas import NAME_MAX
from segment_api.shared.unit_of_work import changing
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Connection, Pool


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
            "split": splitting.shown(row.split),
        }
    )


async def present_rows(pool: Pool, account_id: UUID, rows: list[SegmentRow]) -> list[SegmentOut]:
    async with pool.acquire() as conn:
        catalog = await account_catalog(conn, account_id)
    return [present(r, catalog) for r in rows]


class SegmentService:
    """The changes to segments (the reads are `segment_reads.SegmentReads`)."""

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

    def _change(self, principal: Principal) -> AbstractAsyncContextManager[Connection]:
        return changing(self._pool, self.cache, principal.account_id)

    async def _one(self, principal: Principal, row: SegmentRow) -> SegmentOut:
        (out,) = await present_rows(self._pool, principal.account_id, [row])
        return out

    # --- changes ---------------------------------------------------------------------

    async def create(self, principal: Principal, body: SegmentCreate) -> SegmentOut:
        require_scope(principal, Scope.ADD)
        segment_id = uuid4()
        async with self._change(principal) as conn:
            await provision(conn, principal)
            await limits.within_plan(conn, principal.account_id)
            rules = (await rule_input.checked(conn, principal, body, segment_id=segment_id)).rules
            split = await splitting.laid_out(conn, principal.account_id, body.split, None)
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
                    split=split,
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
            split = row.split
            if "split" in body.model_fields_set:
                split = await splitting.laid_out(conn, principal.account_id, body.split, split)
                # A new layout moves members between buckets: segments that embed a
                # bucket rebuild after this one, as after new rules.
                changed = changed or split != row.split
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
                    split=split,
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
