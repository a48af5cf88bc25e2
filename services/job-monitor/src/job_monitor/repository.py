"""All SQL the job monitor runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from contracts.messages import JobSubmitted
from segment_runtime.db import Connection


@dataclass(frozen=True)
class TrackedJob:
    id: str
    account_id: UUID
    segment_id: UUID
    rules_version: int
    target_table: str
    correlation_id: UUID
    run_id: UUID | None
    polls: int
    submitted_at: datetime
    deadline_at: datetime
    mode: str
    build_time: datetime | None
    previous_members: int | None


async def track(conn: Connection, event: JobSubmitted, timeout_s: float) -> None:
    d = event.data
    await conn.execute(
        "INSERT INTO jobs (id, account_id, segment_id, mode, rules_version, target_table,"
        " correlation_id, run_id, submitted_at, deadline_at, build_time)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $9::timestamptz + make_interval(secs => $10::float8), $11)"
        " ON CONFLICT (id) DO NOTHING",
        d.job_id,
        event.accountid,
        d.segment_id,
        d.mode.value,
        d.rules_version,
        d.table,
        event.correlationid,
        d.run_id,
        event.time,
        timeout_s,
        d.build_time,
    )


async def claim_due(conn: Connection, limit: int) -> list[TrackedJob]:
    """Running jobs whose next poll is due, locked for this poller (others skip them)."""
    rows = await conn.fetch(
        "SELECT j.id, j.account_id, j.segment_id, j.rules_version, j.target_table,"
        " j.correlation_id, j.run_id, j.polls, j.submitted_at, j.deadline_at, j.mode,"
        " j.build_time, s.member_count AS previous_members"
        " FROM jobs j LEFT JOIN segments s ON s.id = j.segment_id"
        " WHERE j.status = 'running' AND j.next_poll_at <= now()"
        " ORDER BY j.next_poll_at LIMIT $1 FOR UPDATE OF j SKIP LOCKED",
        limit,
    )
    return [TrackedJob(**dict(r)) for r in rows]


async def reschedule(conn: Connection, job_id: str, delay_s: float) -> None:
    await conn.execute(
        "UPDATE jobs SET polls = polls + 1,"
        " next_poll_at = now() + make_interval(secs => $2::float8) WHERE id = $1",
        job_id,
        delay_s,
    )


@dataclass(frozen=True)
class Outcome:
    status: str  # done | failed | canceled
    finished_at: datetime
    member_count: int | None
    duration_ms: int | None
    bytes_billed: int | None
    error: str | None
    entered: int | None = None
    exited: int | None = None


async def record_outcome(conn: Connection, job: TrackedJob, outcome: Outcome) -> None:
    """Job row, build history and (if this job built the current rules) the segment."""
    await conn.execute(
        "UPDATE jobs SET status = $2, finished_at = $3, member_count = $4, bytes_billed = $5,"
        " error = $6, entered = $7, exited = $8, polls = polls + 1 WHERE id = $1",
        job.id,
        outcome.status,
        outcome.finished_at,
        outcome.member_count,
        outcome.bytes_billed,
        outcome.error,
        outcome.entered,
        outcome.exited,
    )
    await conn.execute(
        "INSERT INTO build_history (segment_id, account_id, job_id, status, rules_version,"
        " member_count, duration_ms, error, finished_at, entered, exited)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (job_id) DO NOTHING",
        job.segment_id,
        job.account_id,
        job.id,
        outcome.status,
        job.rules_version,
        outcome.member_count,
        outcome.duration_ms,
        outcome.error,
        outcome.finished_at,
        outcome.entered,
        outcome.exited,
    )
    if outcome.status == "done":
        await conn.execute(
            "UPDATE segments SET build_status = 'done', built_at = $3, built_version = $2,"
            " member_count = $4, bytes_billed = $5, last_error = NULL"
            " WHERE id = $1 AND rules_version = $2",
            job.segment_id,
            job.rules_version,
            outcome.finished_at,
            outcome.member_count,
            outcome.bytes_billed,
        )
    else:
        # A failed build keeps the last good table's size and time; it only says why.
        await conn.execute(
            "UPDATE segments SET build_status = $3, last_error = $4"
            " WHERE id = $1 AND rules_version = $2",
            job.segment_id,
            job.rules_version,
            outcome.status,
            outcome.error,
        )


async def parents_of(conn: Connection, segment_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT parent_id FROM segment_embeddings WHERE child_id = $1 ORDER BY parent_id",
        segment_id,
    )
    return [r["parent_id"] for r in rows]
