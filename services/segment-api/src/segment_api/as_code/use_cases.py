"""Segments as code: export an account's segments as YAML files, plan what applying a
directory of them would create, change and archive (with the edit diff's counts), and
apply it. Apply is idempotent (a second apply plans nothing) and refuses a plan that
went stale (the account's segments moved since: 409 `stale_plan`). Nothing is changed
when any file is invalid: every error names its file, line and path."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from compiler import statements
from compiler.errors import RuleSetInvalidError
from compiler.sql import Target
from contracts.catalog import Catalog
from contracts.rules import RuleSet
from contracts.warehouse import segment_table
from segment_api.as_code import files
from segment_api.as_code.schemas import ApplyOut, Change, FilesOut, PlanOut
from segment_api.http.problems import FieldError, ProblemError
from segment_api.segments import repository
from segment_api.segments.schemas import SegmentCreate, SegmentPatch
from segment_api.segments.use_cases import SegmentService
from segment_api.shared.policy import require_scope
from segment_api.shared.rows import SegmentRow
from segment_api.shared.warehouse_reads import WarehouseReads
from segment_runtime.auth import Principal, Scope
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Pool

PAGE = 1000


@dataclass(frozen=True)
class _Counting:
    """What counting each change's members needs, read once a plan."""

    target: Target
    catalog: Catalog
    today: date


@dataclass(frozen=True)
class _Plan:
    out: PlanOut
    parsed: dict[str, files.Parsed]  # by lower-case name
    current: dict[str, SegmentRow]


def _invalid(errors: list[files.FileError]) -> ProblemError:
    return ProblemError(
        422,
        "invalid_files",
        "Some files are invalid",
        f"{len(errors)} error(s); nothing was changed",
        errors=[
            FieldError(
                path=f"files[{e.file}]" + (f".{e.path}" if e.path else ""),
                code="invalid_file",
                message=f"{e.file}" + (f":{e.line}" if e.line else "") + f": {e.message}",
            )
            for e in errors
        ],
    )


def _fingerprint(rows: list[SegmentRow]) -> str:
    state = sorted(f"{r.id}:{r.updated_at.isoformat()}:{r.status}:{r.rules_version}" for r in rows)
    return hashlib.sha256("\n".join(state).encode()).hexdigest()[:32]


class SegmentsAsCode:
    def __init__(self, pool: Pool, reads: WarehouseReads, segments: SegmentService) -> None:
        self._pool = pool
        self._reads = reads
        self._segments = segments

    async def _rows(self, principal: Principal) -> list[SegmentRow]:
        async with self._pool.acquire() as conn:
            rows, _ = await repository.list_segments(
                conn,
                principal.account_id,
                created_by=principal.owner_filter,
                search=None,
                status=None,
                object_type=None,
                created_from=None,
                created_to=None,
                sort="name",
                limit=PAGE,
                offset=0,
            )
        return [r for r in rows if r.is_custom]

    async def export(self, principal: Principal) -> FilesOut:
        require_scope(principal, Scope.VIEW)
        rows = [r for r in await self._rows(principal) if r.status == "active"]
        names = {r.id: r.name for r in rows}
        out: dict[str, str] = {}
        for row in rows:
            if row.rules is None:
                continue
            text = files.render(
                row.name, row.description, RuleSet.model_validate(row.rules), names, row.split
            )
            out[f"{files.slug(row.name)}.yaml"] = text
        return FilesOut(files=out)

    async def _plan(self, principal: Principal, given: dict[str, str]) -> _Plan:
        require_scope(principal, Scope.VIEW)
        errors: list[files.FileError] = []
        parsed: dict[str, files.Parsed] = {}
        for name, text in sorted(given.items()):
            result = files.parse(name, text)
            if isinstance(result, list):
                errors += result
            elif result.segment.name.lower() in parsed:
                errors.append(files.FileError(name, 1, "name", "another file has this name"))
            else:
                parsed[result.segment.name.lower()] = result
        rows = await self._rows(principal)
        current = {r.name.lower(): r for r in rows if r.status == "active"}
        for p in parsed.values():
            errors += [
                files.FileError(
                    p.file, None, "rules", f"no segment named {n!r} here or in the files"
                )
                for n in p.embeds
                if n.lower() not in parsed and n.lower() not in current
            ]
        if errors:
            raise _invalid(errors)
        ids = {k: r.id for k, r in current.items()} | {
            k: UUID(int=i + 1) for i, k in enumerate(parsed) if k not in current
        }
        async with self._pool.acquire() as conn:
            catalog = await account_catalog(conn, principal.account_id)
        counting = _Counting(
            self._reads.target(principal.account_id),
            catalog,
            await self._reads.today(principal.account_id),
        )
        changes: list[Change] = []
        unchanged: list[str] = []
        for key, p in parsed.items():
            rules = files.rules_with_ids(p, ids)
            row = current.get(key)
            if row is None:
                changes.append(await self._counted("create", p, rules, None, counting))
            elif self._differs(row, p, rules):
                changes.append(await self._counted("update", p, rules, row, counting))
            else:
                unchanged.append(p.segment.name)
        for key, row in sorted(current.items()):
            if key not in parsed:
                changes.append(
                    Change(
                        action="archive", name=row.name, would_enter=0, would_exit=row.member_count
                    )
                )
        out = PlanOut(changes=changes, unchanged=unchanged, fingerprint=_fingerprint(rows))
        return _Plan(out, parsed, current)

    @staticmethod
    def _differs(row: SegmentRow, p: files.Parsed, rules: RuleSet) -> bool:
        split = (
            [(b.name, float(b.percent)) for b in p.segment.split.buckets]
            if p.segment.split
            else None
        )
        stored = (
            [(b["name"], float(b["percent"])) for b in row.split["buckets"]] if row.split else None
        )
        return (
            row.rules is None
            or RuleSet.model_validate(row.rules) != rules
            or (row.description or None) != (p.segment.description or None)
            or split != stored
        )

    async def _counted(
        self,
        action: str,
        p: files.Parsed,
        rules: RuleSet,
        row: SegmentRow | None,
        counting: _Counting,
    ) -> Change:
        """The change with who would enter and exit, as the edit diff counts them (a new
        segment: everyone it would select enters)."""
        try:
            m = statements.membership(rules, counting.target, counting.catalog)
        except RuleSetInvalidError:  # the create or update will say why, with paths
            return Change(action=action, name=p.segment.name, file=p.file)
        today = counting.today
        try:
            if row is not None and row.built_at is not None:
                table = segment_table(row.id)
                (d,) = await self._reads.run(statements.edit_diff(m, table), today)
                enter, leave = int(d["would_enter"]), int(d["would_exit"])
            else:
                (counted,) = await self._reads.run(statements.preview(m), today)
                enter, leave = int(counted["matched"]), 0
        except ProblemError as exc:
            if exc.problem.status < 500:
                raise
            # No data loaded yet (a new account), or the warehouse is away: the plan
            # still says what changes, without the counts.
            return Change(action=action, name=p.segment.name, file=p.file)
        return Change(
            action=action, name=p.segment.name, file=p.file, would_enter=enter, would_exit=leave
        )

    async def plan(self, principal: Principal, given: dict[str, str]) -> PlanOut:
        return (await self._plan(principal, given)).out

    async def apply(
        self, principal: Principal, given: dict[str, str], fingerprint: str
    ) -> ApplyOut:
        plan = await self._plan(principal, given)
        if plan.out.fingerprint != fingerprint:
            raise ProblemError(
                409,
                "stale_plan",
                "The plan is stale",
                "the account's segments changed since it was planned: plan again",
            )
        ids = {k: r.id for k, r in plan.current.items()}
        todo = {c.name.lower(): c for c in plan.out.changes if c.action != "archive"}
        done: set[str] = set()

        async def make(key: str) -> None:
            # Embedded segments first, so each create or update names existing ids.
            if key in done or key not in todo:
                return
            done.add(key)
            p = plan.parsed[key]
            for name in p.embeds:
                await make(name.lower())
            rules = files.rules_with_ids(p, ids)
            split = p.segment.split
            if todo[key].action == "create":
                made = await self._segments.create(
                    principal,
                    SegmentCreate(
                        name=p.segment.name,
                        description=p.segment.description,
                        rules=rules,
                        split=split,
                    ),
                )
                ids[key] = made.id
            else:
                await self._segments.update(
                    principal,
                    ids[key],
                    SegmentPatch.model_validate(
                        {"description": p.segment.description, "rules": rules, "split": split}
                    ),
                )

        for key in sorted(todo):
            await make(key)
        for change in plan.out.changes:
            if change.action == "archive":
                await self._segments.archive(principal, plan.current[change.name.lower()].id)
        return ApplyOut(**plan.out.model_dump(), applied=bool(plan.out.changes))
