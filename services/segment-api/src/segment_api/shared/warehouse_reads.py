"""What several use cases read from the warehouse: the account's dataset, today in its
zone, a statement run within the preview budget (a 504 past it, the warehouse's refusal
as a problem), and a segment's reach. One read model, so that the use cases (insights,
membership changes, recipients) share it instead of calling each other."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from compiler.sql import CompiledQuery, Target
from contracts.catalog import ObjectType, base_catalog
from contracts.clock import SYSTEM_CLOCK, Clock
from contracts.warehouse import dataset_id, segment_table
from segment_api.accounts import repository as accounts_repository
from segment_api.http.problems import ProblemError, warehouse_problem
from segment_api.shared import member_queries
from segment_api.shared.member_queries import InBucket
from segment_api.shared.ports import QueryTimeoutError, Warehouse, WarehouseError
from segment_api.shared.rows import SegmentRow
from segment_api.shared.schemas import ChannelReach, Reachability
from segment_runtime.auth import Principal
from segment_runtime.db import Pool


def percentage(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def reachability(obj: ObjectType, reach: dict[str, Any]) -> Reachability:
    members = int(reach["members"])
    channels = {
        c.name: ChannelReach(
            reachable=int(reach.get(c.name) or 0),
            percentage=percentage(int(reach.get(c.name) or 0), members),
        )
        for c in obj.channels
    }
    return Reachability.model_validate(
        {**channels, **{f"{name}_pct": c.percentage for name, c in channels.items()}}
    )


class WarehouseReads:
    def __init__(
        self, pool: Pool, warehouse: Warehouse, *, budget_s: float, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._pool = pool
        self.clock = clock
        self.warehouse = warehouse
        self.budget = budget_s

    def target(self, account_id: UUID) -> Target:
        return Target(self.warehouse.project(), dataset_id(account_id))

    async def today(self, account_id: UUID) -> date:
        """Relative windows count from today in the account's zone, as builds do, so a
        preview never disagrees with the table built the same day."""
        async with self._pool.acquire() as conn:
            zone = await accounts_repository.account_time_zone(conn, account_id)
        return self.clock.today(zone)

    async def run(
        self, query: CompiledQuery, today: date | None = None, **runtime: Any
    ) -> list[dict[str, Any]]:
        params = query.bind(at=self.clock.now(), today=today, **runtime)
        try:
            return await self.warehouse.query(query.sql, params, timeout_s=self.budget)
        except WarehouseError as exc:
            raise warehouse_problem(exc) from exc
        except QueryTimeoutError as exc:
            raise ProblemError(
                504,
                "preview_timeout",
                "The warehouse took too long",
                f"no answer within {self.budget:.0f} s; narrow the rules or try again",
            ) from exc

    async def reach(
        self, principal: Principal, row: SegmentRow, bucket: InBucket | None = None
    ) -> dict[str, Any]:
        """Members, base and reachable members per channel (zeros before the first build),
        of one bucket of the split if given."""
        if row.built_at is None:
            return {"members": 0 if bucket else row.member_count or 0, "base": 0}
        obj = base_catalog().objects[row.object_type]
        target = self.target(principal.account_id)
        query = member_queries.reach(obj, target, segment_table(row.id), bucket)
        (reach,) = await self.run(query)
        return reach
