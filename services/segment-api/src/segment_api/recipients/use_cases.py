"""Send Campaign: a segment's audience by channel, and its reachable members frozen into
a recipient list that a broadcast service reads page by page.

The audience sizes and the list come from one predicate (`reachable_on`), so the
sidebar's number and the list's size never disagree. The list is a warehouse table
of its own, recorded here with its size and time and announced on
`recipient_list.created`, in the transaction that records it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from fastapi.encoders import jsonable_encoder

from contracts.catalog import base_catalog
from contracts.envelope import Cause
from contracts.messages import RecipientListCreated, RecipientListCreatedData
from contracts.warehouse import segment_table
from segment_api.http.problems import ProblemError, field_problem, not_found
from segment_api.recipients import repository as repo
from segment_api.recipients.schemas import (
    ReachabilityOut,
    RecipientListOut,
    RecipientPage,
    RecipientsRequest,
)
from segment_api.shared import buckets, member_queries, policy
from segment_api.shared.policy import require_scope
from segment_api.shared.rows import SegmentRow
from segment_api.shared.warehouse_reads import WarehouseReads, reachability
from segment_runtime import correlation
from segment_runtime.auth import Principal, Scope
from segment_runtime.db import Pool
from segment_runtime.outbox import enqueue

SOURCE = "segment-api"


def list_table(list_id: UUID) -> str:
    return f"recipients_{list_id.hex}"


def _refused(code: str, message: str, path: str = "channel") -> ProblemError:
    return field_problem(422, code, "No recipient list", message, path)


class Recipients:
    def __init__(self, pool: Pool, reads: WarehouseReads) -> None:
        self._pool = pool
        self._reads = reads

    async def audience(
        self, principal: Principal, row: SegmentRow, bucket: str | None = None
    ) -> ReachabilityOut:
        """The reach the detail page shows, per channel: the recipient lists' predicate
        (of one bucket of the split, if named)."""
        obj = base_catalog().objects[row.object_type]
        reach = await self._reads.reach(principal, row, buckets.bucket_of(row, bucket))
        shown = reachability(obj, reach)
        return ReachabilityOut(
            **shown.model_dump(), segment_id=row.id, total_matched=int(reach["members"])
        )

    async def freeze(
        self, principal: Principal, row: SegmentRow, body: RecipientsRequest
    ) -> RecipientListOut:
        segment_id = row.id
        obj = base_catalog().objects[row.object_type]
        channel = next((c for c in obj.channels if c.name == body.channel), None)
        if channel is None:
            known = ", ".join(c.name for c in obj.channels) or "none"
            raise _refused("unknown_channel", f"channels of {obj.name}: {known}")
        if not row.active or row.built_at is None:
            raise _refused(
                "segment_not_built", "the segment has no built members yet", "segment_id"
            )
        only = buckets.bucket_of(row, body.bucket)
        target = self._reads.target(principal.account_id)
        list_id = uuid4()
        table = target.name(list_table(list_id))
        query = member_queries.recipients(obj, target, segment_table(segment_id), channel, only)
        warehouse = self._reads.warehouse
        await warehouse.write_table(query.sql, query.params, table, timeout_s=self._reads.budget)
        (counted,) = await self._reads.run(member_queries.row_count(target, list_table(list_id)))
        size = int(counted["n"])
        if size == 0:
            await warehouse.drop_table(table)
            raise _refused(
                "no_reachable_members", f"no member of this segment is reachable on {channel.name}"
            )
        async with self._pool.acquire() as conn, conn.transaction():
            saved = await repo.insert(
                conn,
                list_id=list_id,
                account_id=principal.account_id,
                segment_id=segment_id,
                channel=channel.name,
                recipients=size,
                table_name=table,
                created_by=principal.user_id,
            )
            await enqueue(
                conn,
                RecipientListCreated.caused_by(
                    Cause(principal.account_id, correlation.current()),
                    SOURCE,
                    data=RecipientListCreatedData(
                        list_id=list_id,
                        segment_id=segment_id,
                        channel=channel.name,
                        recipients=size,
                        table=table,
                        created_by=principal.user_id,
                        bucket=body.bucket,
                    ),
                ),
            )
        return RecipientListOut.model_validate(saved)

    async def _list(self, principal: Principal, list_id: UUID) -> dict[str, Any]:
        require_scope(principal, Scope.VIEW)
        async with self._pool.acquire() as conn:
            saved = await repo.get(conn, principal.account_id, list_id)
        if saved is None:
            raise not_found("recipient list")
        # A list is as visible as the segment it was frozen from.
        async with self._pool.acquire() as conn:
            await policy.visible(conn, principal, saved["segment_id"])
        return saved

    async def get(self, principal: Principal, list_id: UUID) -> RecipientListOut:
        return RecipientListOut.model_validate(await self._list(principal, list_id))

    async def page(
        self, principal: Principal, list_id: UUID, page: int, per_page: int
    ) -> RecipientPage:
        saved = await self._list(principal, list_id)
        target = self._reads.target(principal.account_id)
        rows = await self._reads.run(
            member_queries.recipient_page(target, list_table(list_id)),
            page_limit=per_page,
            page_offset=(page - 1) * per_page,
        )
        return RecipientPage(
            items=jsonable_encoder(rows),
            page=page,
            per_page=per_page,
            total=int(saved["recipients"]),
        )
