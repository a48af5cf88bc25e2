"""Overlap: the size of every region of two to four segments' Venn diagram and each
pair's Jaccard index, from their built tables. A segment the caller cannot see is
absent (404, as anywhere); segments of different objects, or one not yet built, are a
422 naming it."""

from __future__ import annotations

from itertools import combinations
from uuid import UUID

from contracts.warehouse import segment_table
from segment_api.http.problems import ProblemError, field_problem
from segment_api.overlap.schemas import OverlapOut, PairOverlap, Region, SegmentSize
from segment_api.shared import member_queries, policy
from segment_api.shared.rows import SegmentRow
from segment_api.shared.warehouse_reads import WarehouseReads
from segment_runtime.auth import Principal
from segment_runtime.db import Pool


def _refused(i: int, code: str, message: str) -> ProblemError:
    return field_problem(422, code, "No overlap", message, f"segment_ids[{i}]")


class Overlaps:
    def __init__(self, pool: Pool, reads: WarehouseReads) -> None:
        self._pool = pool
        self._reads = reads

    async def _rows(self, principal: Principal, ids: list[UUID]) -> list[SegmentRow]:
        async with self._pool.acquire() as conn:
            rows = [await policy.visible(conn, principal, i) for i in ids]
        for i, row in enumerate(rows):
            if row.object_type != rows[0].object_type:
                raise _refused(
                    i, "object_mismatch", f"{row.object_type} is not {rows[0].object_type}"
                )
            if row.built_at is None:
                raise _refused(i, "segment_not_built", "the segment has no built members yet")
        return rows

    async def of(self, principal: Principal, ids: list[UUID]) -> OverlapOut:
        rows = await self._rows(principal, ids)
        target = self._reads.target(principal.account_id)
        query = member_queries.overlap_regions(target, [segment_table(r.id) for r in rows])
        by_mask = {int(r["mask"]): int(r["n"]) for r in await self._reads.run(query)}

        def has(mask: int, i: int) -> bool:
            return bool(mask >> i & 1)

        sizes = [sum(n for m, n in by_mask.items() if has(m, i)) for i in range(len(rows))]
        pairs = []
        for i, j in combinations(range(len(rows)), 2):
            both = sum(n for m, n in by_mask.items() if has(m, i) and has(m, j))
            either = sizes[i] + sizes[j] - both
            pairs.append(
                PairOverlap(
                    a=rows[i].id, b=rows[j].id, both=both, jaccard=both / either if either else 0.0
                )
            )
        return OverlapOut(
            object=rows[0].object_type,
            segments=[
                SegmentSize(segment_id=r.id, name=r.name, members=n)
                for r, n in zip(rows, sizes, strict=True)
            ],
            regions=[
                Region(segments=[r.id for k, r in enumerate(rows) if has(mask, k)], members=n)
                for mask, n in sorted(by_mask.items())
            ],
            union=sum(by_mask.values()),
            pairs=pairs,
        )
