"""Overlap: the size of every region of two to four segments' Venn diagram and each
pair's Jaccard index, from their built tables. A segment the caller cannot see is
absent (404, as anywhere); segments of different objects, or one not yet built, are a
422 naming it."""

from __future__ import annotations

from itertools import combinations
from uuid import UUID

from sqlglot import exp

from compiler import statements
from compiler.sql import compiled
from contracts.warehouse import segment_table
from segment_api.http.problems import ProblemError, field_problem
from segment_api.overlap.schemas import (
    OverlapOut,
    OverlapRequest,
    PairOverlap,
    Region,
    SegmentSize,
)
from segment_api.segments import rule_input
from segment_api.shared import member_queries, policy
from segment_api.shared.policy import require_scope
from segment_api.shared.rows import SegmentRow
from segment_api.shared.warehouse_reads import WarehouseReads
from segment_runtime.auth import Principal, Scope
from segment_runtime.db import Pool


def _refused(i: int, code: str, message: str) -> ProblemError:
    return field_problem(422, code, "No overlap", message, f"segment_ids[{i}]")


class Overlaps:
    def __init__(self, pool: Pool, reads: WarehouseReads) -> None:
        self._pool = pool
        self._reads = reads

    async def _rows(self, principal: Principal, ids: list[UUID]) -> list[SegmentRow]:
        """The segments: visible, built and of one object."""
        async with self._pool.acquire() as conn:
            rows = [await policy.visible(conn, principal, i) for i in ids]
        for i, row in enumerate(rows):
            if row.object_type != rows[0].object_type:
                message = f"{row.object_type} is not {rows[0].object_type}"
                raise _refused(i, "object_mismatch", message)
            if row.built_at is None:
                message = "the segment has no built members yet"
                raise _refused(i, "segment_not_built", message)
        return rows

    async def of(self, principal: Principal, ids: list[UUID]) -> OverlapOut:
        rows = await self._rows(principal, ids)
        target = self._reads.target(principal.account_id)
        query = compiled(
            member_queries.overlap_regions([target.table(segment_table(r.id)) for r in rows])
        )
        by_mask = {int(r["mask"]): int(r["n"]) for r in await self._reads.run(query)}
        sets: list[tuple[UUID | None, str]] = [(r.id, r.name) for r in rows]
        return _regions(rows[0].object_type, sets, by_mask)

    async def with_rules(self, principal: Principal, body: OverlapRequest) -> OverlapOut:
        """The builder's unsaved rules (`segment_id` none, named "these rules") beside one
        to three built segments of the same object."""
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            checked = await rule_input.checked(conn, principal, body)
        rows = await self._rows(principal, body.segment_ids)
        if rows and rows[0].object_type != checked.rules.object:
            message = f"{rows[0].object_type} is not {checked.rules.object}"
            raise _refused(0, "object_mismatch", message)
        target = self._reads.target(principal.account_id)
        m = statements.membership(checked.typed, target)
        unsaved = exp.Subquery(this=m.members(), alias=exp.TableAlias(this=exp.to_identifier("r")))
        tree = member_queries.overlap_regions(
            [unsaved, *(target.table(segment_table(r.id)) for r in rows)]
        )
        today = await self._reads.today(principal.account_id)
        by_mask = {
            int(r["mask"]): int(r["n"]) for r in await self._reads.run(m.compiled(tree), today)
        }
        sets: list[tuple[UUID | None, str]] = [
            (None, "these rules"),
            *((r.id, r.name) for r in rows),
        ]
        return _regions(checked.rules.object, sets, by_mask)


def _regions(
    object_type: str, sets: list[tuple[UUID | None, str]], by_mask: dict[int, int]
) -> OverlapOut:
    def has(mask: int, i: int) -> bool:
        return bool(mask >> i & 1)

    sizes = [sum(n for m, n in by_mask.items() if has(m, i)) for i in range(len(sets))]
    pairs = []
    for i, j in combinations(range(len(sets)), 2):
        both = sum(n for m, n in by_mask.items() if has(m, i) and has(m, j))
        either = sizes[i] + sizes[j] - both
        pairs.append(
            PairOverlap(
                a=sets[i][0], b=sets[j][0], both=both, jaccard=both / either if either else 0.0
            )
        )
    return OverlapOut(
        object=object_type,
        segments=[
            SegmentSize(segment_id=sid, name=name, members=n)
            for (sid, name), n in zip(sets, sizes, strict=True)
        ],
        regions=[
            Region(segments=[sid for k, (sid, _) in enumerate(sets) if has(mask, k)], members=n)
            for mask, n in sorted(by_mask.items())
        ],
        union=sum(by_mask.values()),
        pairs=pairs,
    )
