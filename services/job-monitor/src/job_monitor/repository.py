"""All SQL the job monitor runs. It writes only `jobs` (and its outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from contracts.messages import JobSubmitted
from segment_runtime.db import Connection


@dataclass(frozen=True)
class TrackedJob:
    id: str
    build_id: UUID
    account_id: UUID
    segment_id: UUID
    rules_version: int
    target_table: str
    correlation_id: UUID
    run_id: UUID | None
    polls: int
    poll_errors: int
    submitted_at: datetime
    deadline_at: datetime
    mode: str
    build_time: datetime | None
    started_announced: bool


_JOB_COLUMNS = (
    "id, build_id, account_id, segment_id, rules_version, target_table, correlation_id, run_id,"
    " polls, poll_errors, submitted_at, deadline_at, mode, build_time, started_announced"
)


async def track(conn: Connection, event: JobSubmitted, timeout_s: float) -> bool:
    """Follow the job; False if it was followed already (its build was sent again)."""
    d = event.data
    return bool(
        await conn.fetchval(
            "INSERT INTO jobs (id, build_id, account_id, segment_id, mode, rules_version,"
            " target_table, correlation_id, run_id, submitted_at, deadline_at, build_time)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
            " $10::timestamptz + make_interval(secs => $11::float8), $12)"
            " ON CONFLICT (id) DO NOTHING RETURNING true",
            d.job_id,
            d.build_id,
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
    )


async def claim_due(conn: Connection, limit: int, lease_s: float) -> list[TrackedJob]:
    """Running jobs whose next check is due, leased to this poller for `lease_s` (another
    poller, or this one after a crash, takes them back when the lease runs out)."""
    rows = await conn.fetch(
        "UPDATE jobs SET next_poll_at = now() + make_interval(secs => $2::float8)"  # noqa: S608
        " WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND next_poll_at <= now()"
        " ORDER BY next_poll_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        f" RETURNING {_JOB_COLUMNS}",
        limit,
        lease_s,
    )
    return [TrackedJob(**dict(r)) for r in rows]


async def reschedule(conn: Connection, job_id: str, delay_s: float) -> None:
    await conn.execute(
        "UPDATE jobs SET polls = polls + 1, poll_errors = 0, last_poll_error = NULL,"
        " next_poll_at = now() + make_interval(secs => $2::float8)"
        " WHERE id = $1 AND status = 'running'",
        job_id,
        delay_s,
    )


async def poll_failed(conn: Connection, job_id: str, error: str, delay_s: float) -> int:
    """Records a failed check; returns how many failed in a row."""
    errors = await conn.fetchval(
        "UPDATE jobs SET poll_errors = poll_errors + 1, last_poll_error = $2,"
        " next_poll_at = now() + make_interval(secs => $3::float8)"
        " WHERE id = $1 AND status = 'running' RETURNING poll_errors",
        job_id,
        error,
        delay_s,
    )
    return int(errors or 0)


async def mark_started(conn: Connection, job_id: str) -> bool:
    """True the first time only: job.started is said once per job."""
    return bool(
        await conn.fetchval(
            "UPDATE jobs SET started_announced = true WHERE id = $1 AND NOT started_announced"
            " RETURNING true",
            job_id,
        )
    )


async def running_job(conn: Connection, job_id: str) -> TrackedJob | None:
    row = await conn.fetchrow(
        f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = $1 AND status = 'running'",  # noqa: S608
        job_id,
    )
    return TrackedJob(**dict(row)) if row else None


async def known_job(conn: Connection, job_id: str) -> tuple[TrackedJob, Outcome | None] | None:
    """A job followed or finished, with its recorded end (None while it runs)."""
    row = await conn.fetchrow(
        f"SELECT {_JOB_COLUMNS}, status, finished_at, member_count, duration_ms,"  # noqa: S608
        " bytes_billed, error, entered, exited FROM jobs WHERE id = $1",
        job_id,
    )
    if row is None:
        return None
    values = dict(row)
    ended = {f: values.pop(f) for f in Outcome.__dataclass_fields__}
    job = TrackedJob(**values)
    return job, (Outcome(**ended) if ended["status"] != "running" else None)


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


async def record_outcome(
    conn: Connection, job: TrackedJob, outcome: Outcome, *, announce: bool = False
) -> bool:
    """The job's end, once; False if another poller recorded it first. `announce`: the
    job changed the segment's log, and who entered and left is owed."""
    return bool(
        await conn.fetchval(
            "UPDATE jobs SET status = $2, finished_at = $3, member_count = $4, bytes_billed = $5,"
            " error = $6, entered = $7, exited = $8, duration_ms = $9, polls = polls + 1,"
            " announce_due = $10"
            " WHERE id = $1 AND status = 'running' RETURNING true",
            job.id,
            outcome.status,
            outcome.finished_at,
            outcome.member_count,
            outcome.bytes_billed,
            outcome.error,
            outcome.entered,
            outcome.exited,
            outcome.duration_ms,
            announce,
        )
    )


@dataclass(frozen=True)
class OwedAnnouncement:
    job_id: str
    build_id: UUID
    account_id: UUID
    segment_id: UUID
    correlation_id: UUID
    run_id: UUID | None
    rules_version: int
    target_table: str
    build_time: datetime | None
    finished_at: datetime | None


async def next_owed(conn: Connection) -> OwedAnnouncement | None:
    """The oldest owed announcement of a segment whose earlier builds are all announced
    (build order per segment: a segment's builds run one after another, so the order their
    jobs were submitted in), locked for this transaction; None if there is none free."""
    row = await conn.fetchrow(
        "SELECT id AS job_id, build_id, account_id, segment_id, correlation_id, run_id,"
        " rules_version, target_table, build_time, finished_at FROM jobs j"
        " WHERE announce_due AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.announce_due"
        "   AND e.segment_id = j.segment_id AND (e.submitted_at, e.id) < (j.submitted_at, j.id))"
        # One that failed last time goes after the others: it never holds them up.
        " ORDER BY announce_error IS NOT NULL, submitted_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    return OwedAnnouncement(**dict(row)) if row else None


async def mark_announced(conn: Connection, job_id: str) -> None:
    await conn.execute(
        "UPDATE jobs SET announce_due = false, announced_at = clock_timestamp(),"
        " announce_error = NULL WHERE id = $1",
        job_id,
    )


async def announce_failed(conn: Connection, job_id: str, error: str) -> None:
    await conn.execute("UPDATE jobs SET announce_error = $2 WHERE id = $1", job_id, error)
