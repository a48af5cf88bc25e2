"""Read-only use cases that ask the warehouse: preview, detail and members."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder

from compiler import statements
from compiler.statements import SAMPLE_LIMIT_PARAM
from contracts.catalog import base_catalog
from contracts.warehouse import segment_table
from segment_api.accounts import repository as accounts_repository
from segment_api.builds import repository as builds_repository
from segment_api.insights.schemas import (
    Bucket,
    BucketCount,
    BucketsOut,
    DetailOut,
    EditDiff,
    GrowthPoint,
    MembersPage,
    NodeCount,
    PerformanceOut,
    PreviewOut,
    PreviewRequest,
)
from segment_api.segments import rule_input
from segment_api.shared import buckets, cost, member_queries, policy
from segment_api.shared.cache import Cache
from segment_api.shared.policy import require_scope
from segment_api.shared.rows import SegmentRow
from segment_api.shared.warehouse_reads import WarehouseReads, percentage, reachability
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.db import Pool

# Who would enter and exit, shown beside the counts, when the preview asks for no sample.
DIFF_SAMPLE = 5


class Insights:
    def __init__(self, pool: Pool, reads: WarehouseReads, cache: Cache) -> None:
        self._pool = pool
        self._reads = reads
        self._cache = cache

    async def preview(self, principal: Principal, body: PreviewRequest) -> PreviewOut:
        """Matched count, base total, a sample and each node's count of an unsaved rule
        set; for a saved segment, also who would enter and exit if it were saved."""
        require_scope(principal, Scope.VIEW)
        current = None
        if body.segment_id:  # named in the body: the same rule as a path's VisibleSegment
            async with self._pool.acquire() as conn:
                current = await policy.visible(conn, principal, body.segment_id)
        # The account's cache generation moves with every change and every finished
        # build, so it stands for the data version too.
        return await self._cache.through(
            principal.account_id,
            "preview",
            body.model_dump(mode="json", by_alias=True),
            model=PreviewOut,
            compute=lambda: self._preview(principal, body, current),
        )

    async def _preview(
        self, principal: Principal, body: PreviewRequest, current: SegmentRow | None
    ) -> PreviewOut:
        async with self._pool.acquire() as conn:
            checked = await rule_input.checked(conn, principal, body, segment_id=body.segment_id)
            schedule = await accounts_repository.refresh_schedule(conn, principal.account_id)
        m = statements.membership(checked.typed, self._reads.target(principal.account_id))
        counts = statements.preview(m)
        today = await self._reads.today(principal.account_id)
        (row,) = await self._reads.run(counts, today)
        members = statements.members_query(m)
        now = self._reads.clock.now()
        dry = await self._reads.warehouse.dry_run(members.sql, members.bind(at=now, today=today))
        spend = cost.of(dry, schedule, now)
        sample = (
            await self._reads.run(
                statements.sample(m), today, **{SAMPLE_LIMIT_PARAM: body.sample_size}
            )
            if body.sample_size
            else []
        )
        diff = None
        if current is not None and current.built_at is not None:
            table = segment_table(current.id)
            (d,) = await self._reads.run(statements.edit_diff(m, table), today)
            who = (
                await self._reads.run(
                    statements.edit_diff_sample(m, table),
                    today,
                    **{SAMPLE_LIMIT_PARAM: body.sample_size or DIFF_SAMPLE},
                )
                if d["would_enter"] or d["would_exit"]
                else []
            )
            sides: dict[str, list[dict[str, Any]]] = {"entered": [], "exited": []}
            for r in jsonable_encoder(who):
                sides[r.pop("change")].append(r)
            diff = EditDiff(
                would_enter=d["would_enter"],
                would_exit=d["would_exit"],
                would_enter_sample=sides["entered"],
                would_exit_sample=sides["exited"],
            )
        return PreviewOut(
            total_matched=row["matched"],
            total_customer_base=row["total"],
            total_base=row["total"],
            percentage=percentage(row["matched"], row["total"]),
            sample=jsonable_encoder(sample),
            nodes=[
                NodeCount(path=p, matched=row[f"n{i}"]) for i, p in enumerate(counts.node_paths)
            ],
            edit_diff=diff,
            cost=spend,
        )

    async def detail(self, principal: Principal, row: SegmentRow) -> DetailOut:
        obj = base_catalog().objects[row.object_type]
        archived = row.status == "archived"
        reach = await self._reads.reach(principal, row)
        members = int(reach["members"])
        return DetailOut(
            id=row.id,
            name=row.name,
            status=row.status,
            build_status=row.build_status,
            total_matched=members,
            total_base=int(reach["base"]),
            percentage_reach=percentage(members, int(reach["base"])),
            last_updated=row.built_at,
            reachability=None if archived or not obj.channels else reachability(obj, reach),
        )

    async def buckets(self, principal: Principal, row: SegmentRow) -> BucketsOut:
        """Each bucket of the split with its members in the built table."""
        split = buckets.split_of(row, "segment_id")
        counted: dict[str, int] = {}
        if row.built_at is not None:
            target = self._reads.target(principal.account_id)
            query = member_queries.bucket_counts(target, segment_table(row.id), split)
            counted = {r["bucket"]: int(r["n"]) for r in await self._reads.run(query)}
        return BucketsOut(
            segment_id=row.id,
            total=sum(counted.values()),
            buckets=[
                BucketCount(name=b.name, percent=float(b.percent), members=counted.get(b.name, 0))
                for b in split.buckets
            ],
        )

    async def members(
        self,
        principal: Principal,
        row: SegmentRow,
        page: int,
        per_page: int,
        bucket: str | None = None,
    ) -> MembersPage:
        """The members, with the matched-table columns, within the viewer's customer scope
        (`customers_view`: all, those they added, or none); of one bucket if named."""
        only = buckets.bucket_of(row, bucket)
        scope = principal.customer_scope
        if row.built_at is None or scope is Access.DISABLED:
            return MembersPage(items=[], page=page, per_page=per_page, total=0)
        obj = base_catalog().objects[row.object_type]
        target, table = self._reads.target(principal.account_id), segment_table(row.id)
        owned = scope is Access.OWNED and obj.owner_field is not None
        # Bound only when the query names it (an unused parameter is an error in BigQuery).
        viewer: dict[str, Any] = {member_queries.VIEWER_PARAM: principal.user_id} if owned else {}
        page_query = member_queries.member_page(obj, target, table, owned=owned, bucket=only)
        rows = await self._reads.run(
            page_query, None, page_limit=per_page, page_offset=(page - 1) * per_page, **viewer
        )
        total = int(row.member_count or 0)
        if only is not None:
            total = (
                (await self.buckets(principal, row))
                .buckets[only.split.buckets.index(only.bucket)]
                .members
            )
        if owned:
            (counted,) = await self._reads.run(
                member_queries.owned_member_count(obj, target, table), None, **viewer
            )
            total = int(counted["n"])
        return MembersPage(items=jsonable_encoder(rows), page=page, per_page=per_page, total=total)

    async def performance(self, principal: Principal, row: SegmentRow, days: int) -> PerformanceOut:
        """Size over time from the build history, and how the members distribute."""
        segment_id = row.id
        async with self._pool.acquire() as conn:
            history = await builds_repository.build_history(
                conn, segment_id, self._reads.clock.now() - timedelta(days=days)
            )
        growth = [
            GrowthPoint(
                at=h["finished_at"],
                members=h["member_count"] or 0,
                entered=h["entered"],
                exited=h["exited"],
                build_id=h["id"],
                anomaly=h["anomaly"],
            )
            for h in history
        ]
        obj = base_catalog().objects[row.object_type]
        distributions: dict[str, list[Bucket]] = {}
        if row.built_at is not None:
            target = self._reads.target(principal.account_id)
            for chart in obj.distributions:
                rows = await self._reads.run(
                    member_queries.distribution(obj, target, segment_table(segment_id), chart)
                )
                distributions[chart.name] = [
                    Bucket(bucket=str(r["bucket"]), members=int(r["members"])) for r in rows
                ]
        return PerformanceOut(growth=growth, distributions=distributions)
