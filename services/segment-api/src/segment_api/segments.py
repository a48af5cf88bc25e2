"""Segment use cases: each writes Postgres and its outbox message in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from fastapi.encoders import jsonable_encoder

from compiler import statements
from compiler.errors import RuleError
from compiler.predicates import BUILD_DATE_PARAM
from compiler.statements import BUILD_TIME_PARAM, Target
from compiler.typed import check
from contracts.catalog import Catalog
from contracts.limits import DEFAULT_PLAN, PLANS, UNLIMITED
from contracts.messages import (
    CascadeRequested,
    CascadeRequestedData,
    ChangeKind,
    SegmentChanged,
    SegmentChangedData,
)
from contracts.rules import RuleSet
from contracts.warehouse import dataset_id
from segment_api import embedding, repository, rule_input
from segment_api.cache import Cache
from segment_api.ports import Warehouse
from segment_api.problems import FieldError, ProblemError, forbidden, invalid_rules, not_found
from segment_api.schemas import (
    NAME_MAX,
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
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Connection, Pool
from segment_runtime.outbox import enqueue

SOURCE = "segment-api"


def _out(row: dict[str, Any], catalog: Catalog) -> SegmentOut:
    build = (
        {
            "id": row["build_id"],
            "state": row["build_state"],
            "cause": row["build_cause"],
            "since": row["build_since"],
            "reason": row["build_reason"],
            "rules_version": row["build_rules_version"],
        }
        if row.get("build_id")
        else None
    )
    rules = RuleSet.model_validate(row["rules"]) if row["rules"] is not None else None
    rule_set, note = rule_input.shown(rules, catalog)
    return SegmentOut.model_validate(
        {
            **row,
            "object": row["object_type"],
            "build": build,
            "rule_set": rule_set,
            "rule_set_note": note,
        }
    )


def require_scope(principal: Principal, scope: Scope) -> Access:
    access = principal.access(scope)
    if access is Access.DISABLED:
        raise forbidden(f"{scope} is disabled for this user")
    return access


def _name_taken(name: str) -> ProblemError:
    # 422, not 409: the RFC's frontend reads a 409 on create as "segment limit reached".
    return ProblemError(
        422,
        "name_taken",
        "Name already in use",
        f"an active segment is already named '{name}'",
        errors=[FieldError(path="name", code="name_taken", message="already in use")],
    )


async def _announce(
    conn: Connection,
    principal: Principal,
    row: dict[str, Any],
    change: ChangeKind,
    *,
    rules_changed: bool = True,
) -> None:
    """The segment.changed message, in the transaction of the change."""
    await enqueue(
        conn,
        SegmentChanged(
            source=SOURCE,
            accountid=principal.account_id,
            correlationid=uuid4(),
            data=SegmentChangedData(
                segment_id=row["id"],
                change=change,
                rules_version=row["rules_version"],
                rules_changed=rules_changed,
                owner=row["created_by"],
            ),
        ),
    )


class SegmentService:
    def __init__(self, pool: Pool, warehouse: Warehouse, cache: Cache | None = None) -> None:
        self._pool = pool
        self._warehouse = warehouse
        self.cache = cache or Cache(None, "none")

    async def _within_plan(self, conn: Connection, account_id: UUID) -> None:
        """Plans cap the account's active segments (checked under the embedding lock, so
        two concurrent creates cannot both take the last place)."""
        await repository.lock_embeddings(conn, account_id)
        limits = PLANS.get(await repository.account_plan(conn, account_id), PLANS[DEFAULT_PLAN])
        if await repository.count_active_custom(conn, account_id) >= limits.max_segments:
            raise ProblemError(
                409,
                "limit_reached",
                "Segment limit reached",
                f"this plan allows {limits.max_segments} active segments",
            )

    async def checked_rules(
        self,
        conn: Connection,
        principal: Principal,
        body: RulesInput,
        *,
        segment_id: UUID | None = None,
    ) -> tuple[RuleSet, Catalog]:
        """The canonical rule set, checked against the account's catalog, its plan and the
        segments the caller may see (as `segment_id`, when it is an existing segment's);
        errors name the rows the caller sent."""
        catalog = await account_catalog(conn, principal.account_id)
        plan = await repository.account_plan(conn, principal.account_id)
        limits = PLANS.get(plan, PLANS[DEFAULT_PLAN])
        rules, converted = rule_input.canonical(body, catalog, limits)
        # A rule_set was held to the plan row by row; its folds are not extra groups.
        errors: list[RuleError | FieldError] = [
            *check(rules, catalog, UNLIMITED if converted else limits)
        ]
        errors += await self._embedding_errors(conn, principal, segment_id, rules)
        if errors:
            raise invalid_rules(rule_input.located(errors, converted))
        return rules, catalog

    async def _present(self, account_id: UUID, rows: list[dict[str, Any]]) -> list[SegmentOut]:
        async with self._pool.acquire() as conn:
            catalog = await account_catalog(conn, account_id)
        return [_out(r, catalog) for r in rows]

    async def _one(self, principal: Principal, row: dict[str, Any]) -> SegmentOut:
        (out,) = await self._present(principal.account_id, [row])
        return out

    async def _embedding_errors(
        self, conn: Connection, principal: Principal, segment_id: UUID | None, rules: RuleSet
    ) -> list[FieldError]:
        """What is wrong with the segments `rules` embed. One the caller may not see reads
        as absent, so a rule cannot learn another user's segment's size or members."""
        named = list(dict.fromkeys(sid for _, sid in embedding.segment_conditions(rules)))
        if not named:
            return []
        found = await repository.segment_kinds(
            conn, principal.account_id, named, created_by=principal.owner_filter
        )
        known = {k: embedding.Known(*v) for k, v in found.items()}
        graph = await repository.embedding_graph(conn, principal.account_id)
        parent = segment_id or uuid4()  # an unsaved rule set is nobody's child yet
        graph.pop(parent, None)  # its own edges are the ones being replaced
        return embedding.check(parent, rules.object, rules, known, graph)

    async def validate(self, principal: Principal, body: ValidateRequest) -> ValidationOut:
        """Every error with its path, or the build statement and a BigQuery dry run of it."""
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            try:
                rules, catalog = await self.checked_rules(conn, principal, body)
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
        require_scope(principal, Scope.ADD)
        segment_id = uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            await self._provision(conn, principal)
            await self._within_plan(conn, principal.account_id)
            rules, _ = await self.checked_rules(conn, principal, body, segment_id=segment_id)
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
                raise _name_taken(body.name) from exc
            await self._embed(conn, segment_id, rules)
            await _announce(conn, principal, row, ChangeKind.CREATED)
        await self.cache.invalidate(principal.account_id)
        return await self._one(principal, row)

    @staticmethod
    async def _embed(conn: Connection, segment_id: UUID, rules: RuleSet) -> None:
        """Records what the segment embeds, once `checked_rules` passed under the lock."""
        named = list(dict.fromkeys(sid for _, sid in embedding.segment_conditions(rules)))
        await repository.set_embeddings(conn, segment_id, named)

    async def _locked(
        self,
        conn: Connection,
        principal: Principal,
        segment_id: UUID,
        scope: Scope,
        *,
        rebuilding: bool = False,
    ) -> dict[str, Any]:
        """The segment, locked for change, if the caller may act on it with `scope`.

        The account's embedding lock comes first, always: a writer that held a segment's
        row and then waited for it would deadlock with one that holds it and adds an
        embedding (whose foreign key waits for that row)."""
        await repository.lock_embeddings(conn, principal.account_id)
        row = await repository.lock_segment(conn, principal.account_id, segment_id)
        if row is None or not principal.sees(row["created_by"]):
            raise not_found()
        access = require_scope(principal, scope)
        if access is Access.OWNED and row["created_by"] != principal.user_id:
            raise forbidden(f"{scope} is limited to segments you created")
        if not row["is_custom"] and not rebuilding:
            raise ProblemError(
                403,
                "default_segment",
                "The default segment is fixed",
                "All Data can be rebuilt, not edited, archived or deleted",
            )
        return row

    async def update(
        self, principal: Principal, segment_id: UUID, body: SegmentPatch
    ) -> SegmentOut:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._locked(conn, principal, segment_id, Scope.MANAGE)
            rules = None
            if body.rules_given():
                rules, _ = await self.checked_rules(
                    conn,
                    principal,
                    RulesInput.model_validate(
                        {
                            "rules": body.rules,
                            "rule_set": body.rule_set,
                            "rule_groups": body.rule_groups,
                            "conjunction": body.conjunction,
                        }
                    ),
                    segment_id=segment_id,
                )
                if rules.object != row["object_type"]:
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
                await self._embed(conn, segment_id, rules)
            changed = rules is not None and rules.model_dump(mode="json") != row["rules"]
            try:
                row = await repository.update_segment(
                    conn,
                    segment_id,
                    name=body.name or row["name"],
                    description=body.description
                    if "description" in body.model_fields_set
                    else row["description"],
                    rules=rules.model_dump(mode="json") if rules else row["rules"],
                    rules_changed=changed,
                )
            except asyncpg.UniqueViolationError as exc:
                raise _name_taken(body.name or "") from exc
            await _announce(conn, principal, row, ChangeKind.UPDATED, rules_changed=changed)
        await self.cache.invalidate(principal.account_id)
        return await self._one(principal, row)

    async def archive(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._locked(conn, principal, segment_id, Scope.ARCHIVED)
            await self._refuse_if_embedded(conn, principal, segment_id, "archived")
            row = await repository.set_status(conn, segment_id, "archived")
            await _announce(conn, principal, row, ChangeKind.ARCHIVED, rules_changed=False)
        await self.cache.invalidate(principal.account_id)
        return await self._one(principal, row)

    async def unarchive(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._locked(conn, principal, segment_id, Scope.ARCHIVED)
            await self._within_plan(conn, principal.account_id)
            try:
                row = await repository.set_status(conn, segment_id, "active")
            except asyncpg.UniqueViolationError as exc:
                raise _name_taken("this name") from exc
            await _announce(conn, principal, row, ChangeKind.UNARCHIVED)
        await self.cache.invalidate(principal.account_id)
        return await self._one(principal, row)

    async def delete(self, principal: Principal, segment_id: UUID) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._locked(conn, principal, segment_id, Scope.MANAGE)
            await self._refuse_if_embedded(conn, principal, segment_id, "deleted")
            await repository.delete_segment(conn, segment_id)
            await _announce(conn, principal, row, ChangeKind.DELETED, rules_changed=False)
        await self.cache.invalidate(principal.account_id)

    async def duplicate(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        require_scope(principal, Scope.ADD)
        async with self._pool.acquire() as conn, conn.transaction():
            original = await repository.get_segment(conn, principal.account_id, segment_id)
            await self._within_plan(conn, principal.account_id)
            if original is None or not principal.sees(original["created_by"]):
                raise not_found()
            copy_id = uuid4()
            name = await repository.free_copy_name(
                conn, principal.account_id, original["name"], NAME_MAX
            )
            row = await repository.insert_segment(
                conn,
                segment_id=copy_id,
                account_id=principal.account_id,
                name=name,
                description=original["description"],
                object_type=original["object_type"],
                rules=original["rules"],
                created_by=principal.user_id,
            )
            if original["rules"] is not None:
                rules = RuleSet.model_validate(original["rules"])
                errors = await self._embedding_errors(conn, principal, copy_id, rules)
                if errors:
                    raise invalid_rules(errors)
                await self._embed(conn, copy_id, rules)
            await _announce(conn, principal, row, ChangeKind.CREATED)
        await self.cache.invalidate(principal.account_id)
        return await self._one(principal, row)

    async def rebuild(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        """Asks the scheduler to rebuild the segment and, after it, what embeds it."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await self._locked(conn, principal, segment_id, Scope.MANAGE, rebuilding=True)
            if row["status"] != "active":
                raise ProblemError(
                    422,
                    "segment_archived",
                    "An archived segment is not rebuilt",
                    "unarchive it first",
                )
            await enqueue(
                conn,
                CascadeRequested(
                    source=SOURCE,
                    accountid=principal.account_id,
                    correlationid=uuid4(),
                    data=CascadeRequestedData(
                        scope="segments", segment_ids=[segment_id], cause="rebuild"
                    ),
                ),
            )
        await self.cache.invalidate(principal.account_id)
        return await self._one(principal, row)

    async def _refuse_if_embedded(
        self, conn: Connection, principal: Principal, segment_id: UUID, action: str
    ) -> None:
        await repository.lock_embeddings(conn, principal.account_id)
        parents = await repository.embedding_parents(conn, segment_id)
        if parents:
            shown = [name for name, owner in parents if principal.sees(owner)]
            hidden = len(parents) - len(shown)
            names = shown + ([f"{hidden} segment(s) you cannot see"] if hidden else [])
            raise ProblemError(
                422,
                "embedded_by_others",
                f"The segment cannot be {action}",
                "it is embedded by: " + ", ".join(names),
            )

    async def embeddable(
        self, principal: Principal, object_type: str, segment_id: UUID | None
    ) -> list[EmbeddableOut]:
        """Custom segments of the object type that the segment may embed: not itself, and
        none that already embeds it; those still building or failed carry a warning."""
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            if segment_id is not None:
                own = await repository.get_segment(conn, principal.account_id, segment_id)
                if own is None or not principal.sees(own["created_by"]):
                    raise not_found()
                object_type = own["object_type"]
            graph = await repository.embedding_graph(conn, principal.account_id)
            rows = await repository.active_segments(conn, principal.account_id)
        warnings = {
            "in_progress": "still building",
            "pending": "still building",
            "failed": "its last build failed",
            "canceled": "its last build failed",
            "skipped": "its last build was skipped",
        }
        return [
            EmbeddableOut(
                id=r["id"],
                name=r["name"],
                build_status=r["build_status"],
                warning=warnings.get(r["build_status"]),
            )
            for r in rows
            if r["is_custom"]
            and r["object_type"] == object_type
            and r["id"] != segment_id
            and principal.sees(r["created_by"])
            and not (segment_id and embedding.reaches(graph, r["id"], segment_id))
        ]

    async def get(self, principal: Principal, segment_id: UUID) -> SegmentOut:
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            row = await repository.get_segment(conn, principal.account_id, segment_id)
        if row is None or not principal.sees(row["created_by"]):
            raise not_found()
        return await self._one(principal, row)

    async def _provision(self, conn: Connection, principal: Principal) -> None:
        """Accounts come from the identity provider: the first request provisions the
        account row and its default "All Data" segment (announced, so it gets built)."""
        await repository.ensure_account(conn, principal.account_id)
        default = await repository.ensure_default_segment(conn, principal.account_id)
        if default is not None:
            await _announce(conn, principal, default, ChangeKind.CREATED)

    async def list(self, principal: Principal, query: ListQuery) -> SegmentPage:
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn, conn.transaction():
            await self._provision(conn, principal)
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

        return await self.cache.through(
            principal.account_id,
            "list",
            [owner, query.model_dump(mode="json")],
            model=SegmentPage,
            compute=compute,
        )

    async def refresh_all(self, principal: Principal) -> RefreshRun:
        """The first document's "expire all": a refresh run over every active segment, which
        the scheduler plans in dependency order."""
        if require_scope(principal, Scope.MANAGE) is not Access.ALL:
            raise forbidden("refreshing every segment needs customers_segment_manage = all")
        run_id = uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            await self._provision(conn, principal)
            active = await repository.active_segments(conn, principal.account_id)
            await enqueue(
                conn,
                CascadeRequested(
                    source=SOURCE,
                    accountid=principal.account_id,
                    correlationid=run_id,
                    data=CascadeRequestedData(scope="account", cause="refresh", run_id=run_id),
                ),
            )
        await self.cache.invalidate(principal.account_id)
        return RefreshRun(run_id=run_id, segments=len(active))
