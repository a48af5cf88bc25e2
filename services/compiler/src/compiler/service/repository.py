"""All SQL the compiler service runs against Postgres (it reads; it writes only its outbox)."""

from __future__ import annotations

from uuid import UUID

from compiler.service.ports import SegmentRecord
from contracts.rules import RuleSet
from segment_runtime.db import Connection


async def load_segment(conn: Connection, segment_id: UUID) -> SegmentRecord | None:
    row = await conn.fetchrow(
        "SELECT s.id, s.account_id, s.object_type, s.rules, s.rules_version, s.status,"
        " b.built_at IS NOT NULL AS built, a.time_zone"
        " FROM segments s JOIN accounts a ON a.id = s.account_id"
        " LEFT JOIN segment_build_state b ON b.segment_id = s.id WHERE s.id = $1",
        segment_id,
    )
    if row is None:
        return None
    return SegmentRecord(
        id=row["id"],
        account_id=row["account_id"],
        object_type=row["object_type"],
        rules=RuleSet.model_validate(row["rules"]) if row["rules"] is not None else None,
        rules_version=row["rules_version"],
        status=row["status"],
        time_zone=row["time_zone"],
        built=row["built"],
    )
