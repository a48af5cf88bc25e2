"""Membership with a memory, read: a segment's changes (who entered and who left, in
which build, when) and its members as of a past build, both from the segment's log in
the warehouse. The log is written by builds only; here it is only read."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi.encoders import jsonable_encoder

from contracts.catalog import base_catalog
from contracts.warehouse import membership_log_table
from segment_api.builds import repository as builds_repository
from segment_api.builds.schemas import ChangesPage, ChangesQuery, MemberChange
from segment_api.http.problems import FieldError, ProblemError
from segment_api.insights.schemas import MembersPage, MembersQuery
from segment_api.shared import member_queries
from segment_api.shared.rows import SegmentRow
from segment_api.shared.warehouse_reads import WarehouseReads
from segment_runtime.auth import Access, Principal
from segment_runtime.db import Pool


def encode_cursor(at: datetime, member_id: str) -> str:
    raw = json.dumps({"at": at.isoformat(), "id": member_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a page ended at; a cursor this gateway did not make is a 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        return datetime.fromisoformat(value["at"]), str(value["id"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _invalid("cursor", "invalid_cursor", "not a cursor this API returned") from exc


def _invalid(path: str, code: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "invalid_request",
        "Invalid request",
        message,
        errors=[FieldError(path=path, code=code, message=message)],
    )


def _unknown_build(build_id: UUID) -> ProblemError:
    return ProblemError(
        404,
        "build_not_found",
        "Build not found",
        f"build {build_id} is not a build of this segment",
        errors=[
            FieldError(path="build_id", code="build_not_found", message=f"no build {build_id}")
        ],
    )


class MembershipChanges:
    def __init__(self, pool: Pool, reads: WarehouseReads) -> None:
        self._pool = pool
        self._reads = reads

    async def _build(self, principal: Principal, segment: SegmentRow, build_id: UUID) -> Any:
        async with self._pool.acquire() as conn:
            build = await builds_repository.build_of(
                conn, principal.account_id, segment.id, build_id
            )
        if build is None:
            raise _unknown_build(build_id)
        return build

    async def page(
        self, principal: Principal, segment: SegmentRow, query: ChangesQuery
    ) -> ChangesPage:
        """Who entered and who left, newest first, within the viewer's customer scope."""
        limit, build_id, since, until = query.limit, query.build_id, query.since, query.until
        after = decode_cursor(query.cursor) if query.cursor else None
        if since and until and since >= until:
            raise _invalid("until", "empty_range", "`until` must be after `since`")
        if build_id is not None:
            await self._build(principal, segment, build_id)
        if segment.built_at is None or principal.customer_scope is Access.DISABLED:
            return ChangesPage(items=[], next_cursor=None)
        obj = base_catalog().objects[segment.object_type]
        owned = principal.customer_scope is Access.OWNED and obj.owner_field is not None
        statement = member_queries.changes_page(
            obj,
            self._reads.target(principal.account_id),
            membership_log_table(segment.id),
            change=query.change,
            by_build=build_id is not None,
            since=since is not None,
            until=until is not None,
            after=after is not None,
            owned=owned,
        )
        values: dict[str, Any] = {member_queries.PAGE_LIMIT_PARAM: limit + 1}
        if owned:
            values[member_queries.VIEWER_PARAM] = principal.user_id
        if build_id is not None:
            values[member_queries.CHANGE_BUILD_PARAM] = str(build_id)
        if since is not None:
            values[member_queries.SINCE_PARAM] = since
        if until is not None:
            values[member_queries.UNTIL_PARAM] = until
        if after is not None:
            values[member_queries.AFTER_AT_PARAM], values[member_queries.AFTER_ID_PARAM] = after
        rows = await self._reads.run(statement, None, **values)
        more = len(rows) > limit
        items = [MemberChange.model_validate(jsonable_encoder(r)) for r in rows[:limit]]
        last = rows[limit - 1] if more else None
        return ChangesPage(
            items=items,
            next_cursor=encode_cursor(last["at"], last["object_id"]) if last else None,
        )

    async def members_as_of(
        self, principal: Principal, segment: SegmentRow, query: MembersQuery
    ) -> MembersPage:
        """The members a past build left, rebuilt from the log's intervals."""
        build_id, page, per_page = query.as_of_build, query.page, query.per_page
        if build_id is None:
            raise _invalid("as_of_build", "missing", "name the build")
        build = await self._build(principal, segment, build_id)
        if build["state"] != "done" or build["build_time"] is None:
            raise _invalid(
                "as_of_build",
                "build_not_committed",
                f"build {build_id} is {build['state']}: it left no membership of its own",
            )
        scope = principal.customer_scope
        if scope is Access.DISABLED:
            return MembersPage(items=[], page=page, per_page=per_page, total=0)
        obj = base_catalog().objects[segment.object_type]
        owned = scope is Access.OWNED and obj.owner_field is not None
        statement = member_queries.member_page_as_of(
            obj,
            self._reads.target(principal.account_id),
            membership_log_table(segment.id),
            owned=owned,
        )
        values: dict[str, Any] = {
            member_queries.AS_OF_PARAM: build["build_time"],
            member_queries.PAGE_LIMIT_PARAM: per_page,
            member_queries.PAGE_OFFSET_PARAM: (page - 1) * per_page,
        }
        if owned:
            values[member_queries.VIEWER_PARAM] = principal.user_id
        rows = await self._reads.run(statement, None, **values)
        total = int(build["member_count"] or 0)  # the build recorded the size it left
        if owned:
            (counted,) = await self._reads.run(
                member_queries.member_count_as_of(
                    obj,
                    self._reads.target(principal.account_id),
                    membership_log_table(segment.id),
                ),
                None,
                **{
                    member_queries.AS_OF_PARAM: build["build_time"],
                    member_queries.VIEWER_PARAM: principal.user_id,
                },
            )
            total = int(counted["n"])
        return MembersPage(items=jsonable_encoder(rows), page=page, per_page=per_page, total=total)
