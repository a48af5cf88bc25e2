"""Read-only use cases that ask the warehouse: preview, detail and members."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from fastapi.encoders import jsonable_encoder

from compiler import statements
from compiler.sql import CompiledQuery, Target
from compiler.statements import SAMPLE_LIMIT_PARAM
from contracts.catalog import ObjectType, base_catalog
from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.warehouse import dataset_id, segment_table
from segment_api import member_queries, policy, repository, rule_input
from segment_api.cache import Cache
from segment_api.policy import require_scope
from segment_api.ports import QueryTimeoutError, Warehouse, WarehouseError
from segment_api.problems import ProblemError, warehouse_problem
from segment_api.rows import SegmentRow
from segment_api.schemas import (
    Bucket,
    ChannelReach,
    DetailOut,
    EditDiff,
    GrowthPoint,
    MembersPage,
    NodeCount,
    PerformanceOut,
    PreviewOut,
    PreviewRequest,
    Reachability,
)
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.db import Pool


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def reachability(obj: ObjectType, reach: dict[str, Any]) -> Reachability:
    members = int(reach["members"])
    channels = {
        c.name: ChannelReach(
            reachable=int(reach.get(c.name) or 0),
            percentage=_pct(int(reach.get(c.name) or 0), members),
        )
        for c in obj.channels
    }
    return Reachability.model_validate(
        {**channels, **{f"{name}_pct": c.percentage for name, c in channels.items()}}
    )


# Who would enter and exit, shown beside the counts, when the preview asks for no sample.
DIFF_SAMPLE = 5


class Insights:
    def __init__(
        self,
        pool: Pool,
        warehouse: Warehouse,
        cache: Cache,
        *,
        budget_s: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._warehouse = warehouse
        self._cache = cache
        self._budget = budget_s

    @property
    def warehouse(self) -> Warehouse:
        return self._warehouse

    @property
    def budget(self) -> float:
        return self._budget

    def target(self, account_id: UUID) -> Target:
        return Target(self._warehouse.project(), dataset_id(account_id))

    async def _today(self, account_id: UUID) -> date:
        """Relative windows count from today in the account's zone, as builds do, so a
        preview never disagrees with the table built the same day."""
        async with self._pool.acquire() as conn:
            zone = await repository.account_time_zone(conn, account_id)
        return self._clock.today(zone)

    async def run(
        self, query: CompiledQuery, today: date | None = None, **runtime: Any
    ) -> list[dict[str, Any]]:
        params = query.bind(at=self._clock.now(), today=today, **runtime)
        try:
            return await self._warehouse.query(query.sql, params, timeout_s=self._budget)
        except WarehouseError as exc:
            raise warehouse_problem(exc) from exc
        except QueryTimeoutError as exc:
            raise ProblemError(
                504,
                "preview_timeout",
                "The warehouse took too long",
                f"no answer within {self._budget:.0f} s; narrow the rules or try again",
            ) from exc

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
        m = statements.membership(checked.typed, self.target(principal.account_id))
        counts = statements.preview(m)
        today = await self._today(principal.account_id)
        (row,) = await self.run(counts, today)
        sample = (
            await self.run(statements.sample(m), today, **{SAMPLE_LIMIT_PARAM: body.sample_size})
            if body.sample_size
            else []
        )
        diff = None
        if current is not None and current.built_at is not None:
            table = segment_table(current.id)
            (d,) = await self.run(statements.edit_diff(m, table), today)
            who = (
                await self.run(
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
            percentage=_pct(row["matched"], row["total"]),
            sample=jsonable_encoder(sample),
            nodes=[
                NodeCount(path=p, matched=row[f"n{i}"]) for i, p in enumerate(counts.node_paths)
            ],
            edit_diff=diff,
        )

    async def reach(self, principal: Principal, row: SegmentRow) -> dict[str, Any]:
        """Members, base and reachable members per channel (zeros before the first build)."""
        if row.built_at is None:
            return {"members": row.member_count or 0, "base": 0}
        obj = base_catalog().objects[row.object_type]
        target = self.target(principal.account_id)
        (reach,) = await self.run(member_queries.reach(obj, target, segment_table(row.id)))
        return reach

    async def detail(self, principal: Principal, row: SegmentRow) -> DetailOut:
        obj = base_catalog().objects[row.object_type]
        archived = row.status == "archived"
        reach = await self.reach(principal, row)
        members = int(reach["members"])
        return DetailOut(
            id=row.id,
            name=row.name,
            status=row.status,
            build_status=row.build_status,
            total_matched=members,
            total_base=int(reach["base"]),
            percentage_reach=_pct(members, int(reach["base"])),
            last_updated=row.built_at,
            reachability=None if archived or not obj.channels else reachability(obj, reach),
        )

    async def members(
        self, principal: Principal, row: SegmentRow, page: int, per_page: int
    ) -> MembersPage:
        """The members, with the matched-table columns, within the viewer's customer scope
        (`customers_view`: all, those they added, or none)."""
        scope = principal.customer_scope
        if row.built_at is None or scope is Access.DISABLED:
            return MembersPage(items=[], page=page, per_page=per_page, total=0)
        obj = base_catalog().objects[row.object_type]
        target, table = self.target(principal.account_id), segment_table(row.id)
        owned = scope is Access.OWNED and obj.owner_field is not None
        # Bound only when the query names it (an unused parameter is an error in BigQuery).
        viewer: dict[str, Any] = {member_queries.VIEWER_PARAM: principal.user_id} if owned else {}
        page_query = member_queries.member_page(obj, target, table, owned=owned)
        rows = await self.run(
            page_query, None, page_limit=per_page, page_offset=(page - 1) * per_page, **viewer
        )
        total = int(row.member_count or 0)
        if owned:
            (counted,) = await self.run(
                member_queries.owned_member_count(obj, target, table), None, **viewer
            )
            total = int(counted["n"])
        return MembersPage(items=jsonable_encoder(rows), page=page, per_page=per_page, total=total)

    async def performance(self, principal: Principal, row: SegmentRow, days: int) -> PerformanceOut:
        """Size over time from the build history, and how the members distribute."""
        segment_id = row.id
        async with self._pool.acquire() as conn:
            history = await repository.build_history(
                conn, segment_id, self._clock.now() - timedelta(days=days)
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
            target = self.target(principal.account_id)
            for chart in obj.distributions:
                rows = await self.run(
                    member_queries.distribution(obj, target, segment_table(segment_id), chart)
                )
                distributions[chart.name] = [
                    Bucket(bucket=str(r["bucket"]), members=int(r["members"])) for r in rows
                ]
        return PerformanceOut(growth=growth, distributions=distributions)
