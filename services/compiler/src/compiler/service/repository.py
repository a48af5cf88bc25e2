"""All SQL the compiler service runs against Postgres. It writes only its queue of build
commands (and its outbox); what it reads of other services is their published views:
the gateway's `segment_definitions` and `account_settings`, the scheduler's
`segment_build_status`."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from compiler.service.ports import SegmentRecord
from contracts.messages import StartBuild
from contracts.rules import RuleSet
from contracts.splits import Split
from segment_runtime.db import Connection


async def load_segment(conn: Connection, segment_id: UUID) -> SegmentRecord | None:
    row = await conn.fetchrow(
        "SELECT s.id, s.account_id, s.object_type, s.rules, s.rules_version, s.status,"
        " b.built_at IS NOT NULL AS built, a.time_zone"
        " FROM segment_definitions s JOIN account_settings a ON a.id = s.account_id"
        " LEFT JOIN segment_build_status b ON b.segment_id = s.id WHERE s.id = $1",
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


async def splits_of(conn: Connection, account_id: UUID, ids: list[UUID]) -> dict[UUID, Split]:
    """The splits of the segments a rule set embeds (a bucket's members are theirs)."""
    rows = await conn.fetch(
        "SELECT id, split FROM segment_definitions WHERE account_id = $1"
        " AND id = ANY($2::uuid[]) AND split IS NOT NULL",
        account_id,
        ids,
    )
    return {r["id"]: Split.model_validate(r["split"]) for r in rows}


@dataclass(frozen=True)
class Claimed:
    """A queued build command this worker now holds (until its lease lapses)."""

    command: StartBuild
    attempts: int


async def queue_request(conn: Connection, command: StartBuild) -> None:
    """Keep the command until its job is submitted; a re-sent command for a build still
    queued adds nothing (the queued one will submit the same job)."""
    await conn.execute(
        "INSERT INTO build_requests (build_id, account_id, command) VALUES ($1, $2, $3)"
        " ON CONFLICT (build_id) DO NOTHING",
        command.data.build_id,
        command.accountid,
        command.model_dump(mode="json"),
    )


async def claim_next(conn: Connection, lease_s: float) -> Claimed | None:
    """The next build to submit, fair across accounts: the account with the fewest builds
    being submitted right now goes first, then the oldest command. SKIP LOCKED lets
    several workers claim at once without waiting on each other."""
    row = await conn.fetchrow(
        "WITH busy AS (SELECT account_id, count(*) AS n FROM build_requests"
        "  WHERE claimed_until >= now() GROUP BY account_id),"
        " next AS (SELECT r.build_id FROM build_requests r"
        "  LEFT JOIN busy b ON b.account_id = r.account_id"
        "  WHERE r.claimed_until IS NULL OR r.claimed_until < now()"
        "  ORDER BY coalesce(b.n, 0), r.received_at"
        "  LIMIT 1 FOR UPDATE OF r SKIP LOCKED)"
        " UPDATE build_requests SET claimed_until = now() + make_interval(secs => $1),"
        " attempts = attempts + 1 FROM next WHERE build_requests.build_id = next.build_id"
        " RETURNING command, attempts",
        lease_s,
    )
    if row is None:
        return None
    return Claimed(StartBuild.model_validate(row["command"]), row["attempts"])


async def release(conn: Connection, build_id: UUID, retry_in_s: float) -> None:
    """Submitting failed for a reason that may pass: try again after a pause."""
    await conn.execute(
        "UPDATE build_requests SET claimed_until = now() + make_interval(secs => $2)"
        " WHERE build_id = $1",
        build_id,
        retry_in_s,
    )


async def forget_request(conn: Connection, build_id: UUID) -> None:
    """The build's job was submitted, or it ended without one (same transaction)."""
    await conn.execute("DELETE FROM build_requests WHERE build_id = $1", build_id)
