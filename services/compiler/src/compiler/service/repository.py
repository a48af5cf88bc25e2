"""All SQL the compiler service runs against Postgres."""

from __future__ import annotations

from uuid import UUID

from compiler.service.ports import SegmentRecord
from contracts.messages import BuildStatus
from contracts.rules import RuleSet
from segment_runtime.db import Connection


async def load_segment(conn: Connection, segment_id: UUID) -> SegmentRecord | None:
    row = await conn.fetchrow(
        "SELECT s.id, s.account_id, s.object_type, s.rules, s.rules_version, s.status,"
        " s.built_at IS NOT NULL AS built, a.time_zone"
        " FROM segments s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1",
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


async def set_build_status(
    conn: Connection, segment_id: UUID, status: BuildStatus, error: str | None = None
) -> None:
    await conn.execute(
        "UPDATE segments SET build_status = $2, last_error = $3 WHERE id = $1",
        segment_id,
        status.value,
        error,
    )
