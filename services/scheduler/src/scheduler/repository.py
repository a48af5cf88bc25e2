"""All SQL the scheduler runs. It alone writes `builds`, `segment_build_state` and
`refresh_runs`; it reads segments, embeddings, accounts and the job monitor's jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.messages import BuildCause, BuildMode, BuildState, JobPriority
from scheduler.anomalies import Thresholds
from segment_runtime.db import Connection

OPEN_STATES = ("requested", "submitted", "running")


@dataclass(frozen=True)
class AccountSchedule:
    id: UUID
    time_zone: str
    refresh_cron: str
    created_at: datetime


@dataclass(frozen=True)
class SegmentInfo:
    id: UUID
    account_id: UUID
    name: str
    status: str
    rules_version: int


@dataclass(frozen=True)
class Build:
    id: UUID
    account_id: UUID
    segment_id: UUID
    cause: BuildCause
    mode: BuildMode
    run_id: UUID | None
    origin_segment_id: UUID | None
    rules_version: int
    state: BuildState
    reason: str | None
    job_id: str | None
    attempts: int
    requested_at: datetime
    dispatched_at: datetime | None
    updated_at: datetime
    member_count: int | None
    entered: int | None
    exited: int | None
    bytes_billed: int | None
    finished_at: datetime | None
    anomaly: str | None = None
    waiting: str | None = None  # why it waits longer than expected, while it waits

    @property
    def queued(self) -> bool:
        return self.state is BuildState.REQUESTED and self.dispatched_at is None


_BUILD_COLUMNS = (
    "id, account_id, segment_id, cause, mode, run_id, origin_segment_id, rules_version, state,"
    " reason, job_id, attempts, requested_at, dispatched_at, updated_at, member_count, entered,"
    " exited, bytes_billed, finished_at, anomaly, waiting"
)


def _build(row: Any) -> Build:
    values = dict(row)
    values["cause"] = BuildCause(values["cause"])
    values["mode"] = BuildMode(values["mode"])
    values["state"] = BuildState(values["state"])
    return Build(**values)


async def lock_account(conn: Connection, account_id: UUID) -> None:
    """Every decision about an account's builds happens under this lock, so two handlers
    (or two scheduler instances) never plan over the same graph at once."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('builds:' || $1, 0))", str(account_id)
    )


async def accounts(conn: Connection) -> list[AccountSchedule]:
    rows = await conn.fetch(
        "SELECT id, time_zone, refresh_cron, created_at FROM account_settings ORDER BY id"
    )
    return [AccountSchedule(**dict(r)) for r in rows]


async def segment(conn: Connection, segment_id: UUID) -> SegmentInfo | None:
    row = await conn.fetchrow(
        "SELECT id, account_id, name, status, rules_version FROM segment_definitions WHERE id = $1",
        segment_id,
    )
    return SegmentInfo(**dict(row)) if row else None


async def active_segments(conn: Connection, account_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT id FROM segment_definitions WHERE account_id = $1 AND status = 'active'"
        " ORDER BY created_at, id",
        account_id,
    )
    return [r["id"] for r in rows]


async def names(conn: Connection, account_id: UUID) -> dict[UUID, str]:
    rows = await conn.fetch(
        "SELECT id, name FROM segment_definitions WHERE account_id = $1", account_id
    )
    return {r["id"]: r["name"] for r in rows}


async def embeds(conn: Connection, account_id: UUID) -> dict[UUID, frozenset[UUID]]:
    rows = await conn.fetch(
        "SELECT e.parent_id, array_agg(e.child_id) AS children FROM segment_dependencies e"
        " JOIN segment_definitions p ON p.id = e.parent_id"
        " WHERE p.account_id = $1 AND p.status = 'active' GROUP BY e.parent_id",
        account_id,
    )
    return {r["parent_id"]: frozenset(r["children"]) for r in rows}


async def graph_version(conn: Connection, account_id: UUID) -> tuple[int, datetime | None]:
    """Changes whenever the account's embedding graph may have (a segment created, edited,
    archived or deleted): the cache key for the graph."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, max(updated_at) AS latest FROM segment_definitions"
        " WHERE account_id = $1",
        account_id,
    )
    assert row is not None
    return int(row["n"]), row["latest"]


@dataclass(frozen=True)
class OpenSet:
    queued: frozenset[UUID]  # segments with a build waiting
    busy: frozenset[UUID]  # segments with a build in flight


async def open_set(conn: Connection, account_id: UUID) -> OpenSet:
    """Which segments have a build waiting or in flight: all planning needs of the rest."""
    rows = await conn.fetch(
        "SELECT segment_id, dispatched_at IS NULL AND state = 'requested' AS queued"
        " FROM builds WHERE account_id = $1 AND state = ANY($2::text[])",
        account_id,
        list(OPEN_STATES),
    )
    return OpenSet(
        frozenset(r["segment_id"] for r in rows if r["queued"]),
        frozenset(r["segment_id"] for r in rows if not r["queued"]),
    )


async def queued_builds(conn: Connection, segment_ids: list[UUID]) -> dict[UUID, Build]:
    rows = await conn.fetch(
        f"SELECT {_BUILD_COLUMNS} FROM builds WHERE segment_id = ANY($1::uuid[])"  # noqa: S608
        " AND state = 'requested' AND dispatched_at IS NULL",
        segment_ids,
    )
    return {b.segment_id: b for b in map(_build, rows)}


async def get_build(conn: Connection, build_id: UUID) -> Build | None:
    row = await conn.fetchrow(
        f"SELECT {_BUILD_COLUMNS} FROM builds WHERE id = $1",  # noqa: S608 - constant columns
        build_id,
    )
    return _build(row) if row else None


async def open_builds_of(conn: Connection, segment_id: UUID) -> list[Build]:
    rows = await conn.fetch(
        f"SELECT {_BUILD_COLUMNS} FROM builds"  # noqa: S608 - constant columns
        " WHERE segment_id = $1 AND state = ANY($2::text[]) ORDER BY requested_at",
        segment_id,
        list(OPEN_STATES),
    )
    return [_build(r) for r in rows]


async def insert_build(
    conn: Connection,
    *,
    build_id: UUID,
    account_id: UUID,
    segment_id: UUID,
    cause: BuildCause,
    mode: BuildMode,
    run_id: UUID | None,
    origin_segment_id: UUID | None,
    rules_version: int,
) -> Build:
    row = await conn.fetchrow(
        "INSERT INTO builds (id, account_id, segment_id, cause, mode, run_id, origin_segment_id,"  # noqa: S608
        " rules_version, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'requested')"
        f" RETURNING {_BUILD_COLUMNS}",
        build_id,
        account_id,
        segment_id,
        cause.value,
        mode.value,
        run_id,
        origin_segment_id,
        rules_version,
    )
    return _build(row)


async def merge_into_queued(
    conn: Connection, build_id: UUID, *, mode: BuildMode, run_id: UUID | None, rules_version: int
) -> Build:
    """A request for a segment that already has a build waiting joins that build: the
    newest rules, a full build if either asked for one, and the run if it had none."""
    row = await conn.fetchrow(
        "UPDATE builds SET rules_version = greatest(rules_version, $2),"  # noqa: S608
        " mode = CASE WHEN $3 = 'build' THEN 'build' ELSE mode END,"
        " run_id = coalesce(run_id, $4), updated_at = clock_timestamp()"
        f" WHERE id = $1 RETURNING {_BUILD_COLUMNS}",
        build_id,
        rules_version,
        mode.value,
        run_id,
    )
    return _build(row)


async def transition(
    conn: Connection,
    build_id: UUID,
    to: BuildState,
    *,
    allowed_from: tuple[BuildState, ...],
    reason: str | None = None,
    **fields: Any,
) -> Build | None:
    """Moves a build along its state machine; None if it was not in an allowed state
    (a late or repeated fact changes nothing)."""
    stamp = {
        BuildState.SUBMITTED: "submitted_at",
        BuildState.RUNNING: "started_at",
    }.get(to, "finished_at" if to.terminal else None)
    # Any move answers why it waited: the note goes with the state it was about.
    sets = ["state = $2", "reason = $3", "updated_at = clock_timestamp()", "waiting = NULL"]
    values: list[Any] = [build_id, to.value, reason, [s.value for s in allowed_from]]
    if stamp:
        sets.append(f"{stamp} = coalesce({stamp}, clock_timestamp())")
    for column, value in fields.items():
        if column not in _SETTABLE:
            raise ValueError(f"not a build column: {column}")
        values.append(value)
        sets.append(f"{column} = ${len(values)}")
    row = await conn.fetchrow(
        f"UPDATE builds SET {', '.join(sets)} WHERE id = $1 AND state = ANY($4::text[])"  # noqa: S608
        f" RETURNING {_BUILD_COLUMNS}",
        *values,
    )
    return _build(row) if row else None


_SETTABLE = frozenset(
    {
        "job_id",
        "rules_version",
        "member_count",
        "entered",
        "exited",
        "bytes_billed",
        "duration_ms",
        "build_time",
        "anomaly",
    }
)


async def record_late_changes(conn: Connection, build_id: UUID, entered: int, exited: int) -> bool:
    """A build that had already ended (canceled by an archive, say) when its job's end
    arrived: the log changes its statement committed are still its own, and are kept so
    that entered minus exited over all builds stays each segment's size."""
    return bool(
        await conn.fetchval(
            "UPDATE builds SET entered = $2, exited = $3, updated_at = clock_timestamp()"
            " WHERE id = $1 AND entered IS NULL AND exited IS NULL RETURNING true",
            build_id,
            entered,
            exited,
        )
    )


async def record_late_build_time(conn: Connection, build_id: UUID, build_time: datetime) -> bool:
    """The build time of a build whose job.submitted came after job.started."""
    return bool(
        await conn.fetchval(
            "UPDATE builds SET build_time = $2 WHERE id = $1 AND build_time IS NULL RETURNING true",
            build_id,
            build_time,
        )
    )


async def last_committed_size(conn: Connection, segment_id: UUID, before: UUID) -> int | None:
    """The member count of the segment's latest done build other than `before`."""
    value = await conn.fetchval(
        "SELECT member_count FROM builds WHERE segment_id = $1 AND id <> $2 AND state = 'done'"
        " AND member_count IS NOT NULL ORDER BY finished_at DESC LIMIT 1",
        segment_id,
        before,
    )
    return int(value) if value is not None else None


async def anomaly_thresholds(conn: Connection, account_id: UUID) -> Thresholds:
    row = await conn.fetchrow(
        "SELECT anomaly_change_pct, anomaly_min_changed FROM account_settings WHERE id = $1",
        account_id,
    )
    if row is None:
        return Thresholds()
    return Thresholds(row["anomaly_change_pct"], row["anomaly_min_changed"])


async def mark_dispatched(conn: Connection, build_id: UUID, reason: str | None = None) -> Build:
    row = await conn.fetchrow(
        "UPDATE builds SET dispatched_at = clock_timestamp(), attempts = attempts + 1,"  # noqa: S608
        " reason = $2, updated_at = clock_timestamp(), waiting = NULL"
        f" WHERE id = $1 RETURNING {_BUILD_COLUMNS}",
        build_id,
        reason,
    )
    return _build(row)


@dataclass(frozen=True)
class Projection:
    """The build a segment's status shows now (None before its first), and its creator,
    whom the status push must reach (None once the segment is deleted)."""

    build_id: UUID | None
    requested_at: datetime | None
    owner: str | None


async def projection(conn: Connection, segment_id: UUID) -> Projection:
    row = await conn.fetchrow(
        "SELECT p.build_id, b.requested_at, s.created_by FROM (SELECT $1::uuid AS id) k"
        " LEFT JOIN segment_definitions s ON s.id = k.id"
        " LEFT JOIN segment_build_state p ON p.segment_id = k.id"
        " LEFT JOIN builds b ON b.id = p.build_id",
        segment_id,
    )
    assert row is not None  # the outer row always exists
    return Projection(row["build_id"], row["requested_at"], row["created_by"])


async def project(conn: Connection, build: Build, *, show_state: bool) -> None:
    """The one statement that writes a segment's build status: its latest build's state,
    and the table's size and time from its latest done build."""
    done = build.state is BuildState.DONE
    await conn.execute(
        "INSERT INTO segment_build_state (segment_id, account_id, build_id, state, cause, reason,"
        " since, rules_version, built_at, built_version, member_count, bytes_billed, waiting)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
        " CASE WHEN $9 THEN $10::timestamptz END, CASE WHEN $9 THEN $8::int END,"
        " CASE WHEN $9 THEN $11::bigint END, CASE WHEN $9 THEN $12::bigint END, $14)"
        " ON CONFLICT (segment_id) DO UPDATE SET"
        " waiting = CASE WHEN $13 THEN excluded.waiting ELSE segment_build_state.waiting END,"
        " build_id = CASE WHEN $13 THEN excluded.build_id ELSE segment_build_state.build_id END,"
        " state = CASE WHEN $13 THEN excluded.state ELSE segment_build_state.state END,"
        " cause = CASE WHEN $13 THEN excluded.cause ELSE segment_build_state.cause END,"
        " reason = CASE WHEN $13 THEN excluded.reason ELSE segment_build_state.reason END,"
        " since = CASE WHEN $13 THEN excluded.since ELSE segment_build_state.since END,"
        " rules_version = CASE WHEN $13 THEN excluded.rules_version"
        "   ELSE segment_build_state.rules_version END,"
        " built_at = CASE WHEN $9 THEN excluded.built_at ELSE segment_build_state.built_at END,"
        " built_version = CASE WHEN $9 THEN excluded.built_version"
        "   ELSE segment_build_state.built_version END,"
        " member_count = CASE WHEN $9 THEN excluded.member_count"
        "   ELSE segment_build_state.member_count END,"
        " bytes_billed = CASE WHEN $9 THEN excluded.bytes_billed"
        "   ELSE segment_build_state.bytes_billed END",
        build.segment_id,
        build.account_id,
        build.id,
        build.state.value,
        build.cause.value,
        build.reason,
        build.updated_at,
        build.rules_version,
        done,
        build.finished_at,
        build.member_count,
        build.bytes_billed,
        show_state,
        build.waiting,
    )


async def forget_projection(conn: Connection, segment_id: UUID) -> None:
    await conn.execute("DELETE FROM segment_build_state WHERE segment_id = $1", segment_id)


async def last_bytes_billed(conn: Connection, segment_ids: list[UUID]) -> dict[UUID, int]:
    rows = await conn.fetch(
        "SELECT segment_id, bytes_billed FROM segment_build_state"
        " WHERE segment_id = ANY($1::uuid[]) AND bytes_billed IS NOT NULL",
        segment_ids,
    )
    return {r["segment_id"]: int(r["bytes_billed"]) for r in rows}


async def cost_threshold(conn: Connection, account_id: UUID) -> int:
    value = await conn.fetchval(
        "SELECT cost_threshold_bytes FROM account_settings WHERE id = $1", account_id
    )
    return int(value) if value is not None else 10_000_000_000


async def refresh_priority(conn: Connection, account_id: UUID) -> JobPriority:
    """The account's choice for its refresh runs' jobs (INTERACTIVE unless it chose BATCH)."""
    value = await conn.fetchval(
        "SELECT refresh_priority FROM account_settings WHERE id = $1", account_id
    )
    return JobPriority(value) if value is not None else JobPriority.INTERACTIVE


async def start_run(
    conn: Connection,
    run_id: UUID,
    account_id: UUID,
    *,
    scheduled_for: datetime,
    trigger: str,
    segment_count: int,
) -> bool:
    """Claims the run; False if this tick (or this run id) already ran."""
    inserted = await conn.fetchval(
        "INSERT INTO refresh_runs (id, account_id, scheduled_for, trigger, segment_count)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        run_id,
        account_id,
        scheduled_for,
        trigger,
        segment_count,
    )
    return bool(inserted)


async def run_counts(conn: Connection, run_id: UUID) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT state, count(*) AS n FROM builds WHERE run_id = $1 GROUP BY state", run_id
    )
    return {r["state"]: int(r["n"]) for r in rows}


async def run_state(conn: Connection, run_id: UUID) -> tuple[str | None, int | None]:
    """The run's recorded state and how many segments it set out to build."""
    row = await conn.fetchrow("SELECT state, segment_count FROM refresh_runs WHERE id = $1", run_id)
    if row is None:
        return None, None
    return str(row["state"]), row["segment_count"]


async def finish_run(conn: Connection, run_id: UUID, summary: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE refresh_runs SET state = 'finished', finished_at = clock_timestamp(),"
        " summary = $2 WHERE id = $1 AND state = 'running'",
        run_id,
        summary,
    )


# --- the reconciler's reads ----------------------------------------------------------------


async def accounts_with_queued(conn: Connection) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT DISTINCT account_id FROM builds WHERE state = 'requested' AND dispatched_at IS NULL"
    )
    return [r["account_id"] for r in rows]


_B_COLUMNS = ", ".join("b." + c.strip() for c in _BUILD_COLUMNS.split(","))


async def unanswered_dispatches(conn: Connection, older_than_s: float) -> list[Build]:
    """Sent to the compiler with no job.submitted since: the command was lost, or its
    answer was (the compiler re-states it for a job it already made)."""
    rows = await conn.fetch(
        f"SELECT {_BUILD_COLUMNS} FROM builds WHERE state = 'requested'"  # noqa: S608
        " AND dispatched_at < clock_timestamp() - make_interval(secs => $1::float8)"
        " ORDER BY dispatched_at LIMIT 500",
        older_than_s,
    )
    return [_build(r) for r in rows]


async def silent_jobs(conn: Connection, silent_s: float, cap_s: float) -> list[Build]:
    """Builds submitted or running with no news since they last moved or were asked
    about: `silent_s` at first, twice as long after each ask, at most `cap_s` (a long
    job is asked about ever more rarely; a lost end is found within the first wait)."""
    rows = await conn.fetch(
        f"SELECT {_BUILD_COLUMNS} FROM builds"  # noqa: S608 - constant columns
        " WHERE state IN ('submitted', 'running')"
        " AND greatest(updated_at, coalesce(dispatched_at, updated_at))"
        "   < clock_timestamp() - make_interval("
        "     secs => least($2::float8, $1::float8 * 2 ^ least(restates, 30)))"
        " ORDER BY updated_at LIMIT 500",
        silent_s,
        cap_s,
    )
    return [_build(r) for r in rows]


async def mark_asked(conn: Connection, build_id: UUID) -> Build:
    """An in-flight build sent again to have its job's facts re-stated: not a new attempt,
    and not news (`updated_at`, which the overdue deadline counts from, stays)."""
    row = await conn.fetchrow(
        "UPDATE builds SET dispatched_at = clock_timestamp(), restates = restates + 1"  # noqa: S608
        f" WHERE id = $1 RETURNING {_BUILD_COLUMNS}",
        build_id,
    )
    return _build(row)


async def overdue_running(conn: Connection, older_than_s: float) -> list[Build]:
    rows = await conn.fetch(
        f"SELECT {_BUILD_COLUMNS} FROM builds WHERE state IN ('submitted', 'running')"  # noqa: S608
        " AND updated_at < clock_timestamp() - make_interval(secs => $1::float8)"
        " ORDER BY updated_at LIMIT 500",
        older_than_s,
    )
    return [_build(r) for r in rows]


async def unbuilt_changes(conn: Connection, older_than_s: float) -> list[SegmentInfo]:
    """Active segments whose current rules no build has taken up: their change message
    was lost (a broker restart loses what it held)."""
    rows = await conn.fetch(
        "SELECT s.id, s.account_id, s.name, s.status, s.rules_version FROM segment_definitions s"
        " LEFT JOIN segment_build_state p ON p.segment_id = s.id"
        " WHERE s.status = 'active'"
        " AND s.updated_at < clock_timestamp() - make_interval(secs => $1::float8)"
        " AND (p.segment_id IS NULL OR p.rules_version < s.rules_version)"
        " AND NOT EXISTS (SELECT 1 FROM builds b WHERE b.segment_id = s.id"
        "   AND b.state IN ('requested', 'submitted', 'running'))"
        " LIMIT 500",
        older_than_s,
    )
    return [SegmentInfo(**dict(r)) for r in rows]


async def orphaned_builds(conn: Connection) -> list[tuple[Build, str]]:
    """Open builds of segments deleted or archived (their change message was lost), each
    with its segment's status (`deleted` when the segment is gone)."""
    rows = await conn.fetch(
        f"SELECT {_B_COLUMNS}, coalesce(s.status, 'deleted') AS segment_status"  # noqa: S608
        " FROM builds b LEFT JOIN segment_definitions s ON s.id = b.segment_id"
        " WHERE b.state IN ('requested', 'submitted', 'running')"
        " AND (s.id IS NULL OR s.status <> 'active') LIMIT 500"
    )
    out = []
    for r in rows:
        values = dict(r)
        status = values.pop("segment_status")
        out.append((_build(values), status))
    return out


@dataclass(frozen=True)
class SlowJob:
    build: Build
    ran_s: float
    usual_s: float  # the median of the segment's recent builds' job durations


async def long_queued(conn: Connection, after_s: float) -> list[Build]:
    """Builds still waiting to be sent (on what they embed) after this long."""
    rows = await conn.fetch(
        f"SELECT {_BUILD_COLUMNS} FROM builds"  # noqa: S608 - constant columns
        " WHERE state = 'requested' AND dispatched_at IS NULL"
        " AND requested_at < clock_timestamp() - make_interval(secs => $1)",
        after_s,
    )
    return [_build(r) for r in rows]


async def slow_jobs(conn: Connection, factor: float, at_least_s: float) -> list[SlowJob]:
    """Jobs running `factor` times longer than the median of their segment's last five done
    builds, and at least `at_least_s` (short jobs vary too much to call slow)."""
    rows = await conn.fetch(
        f"SELECT {_B_COLUMNS},"  # noqa: S608 - constant columns
        " extract(epoch FROM clock_timestamp() - coalesce(b.started_at, b.submitted_at))"
        "   AS ran_s, h.usual_s"
        " FROM builds b CROSS JOIN LATERAL ("
        "  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms) / 1000.0 AS usual_s"
        "  FROM (SELECT d.duration_ms FROM builds d WHERE d.segment_id = b.segment_id"
        "        AND d.state = 'done' AND d.duration_ms IS NOT NULL"
        "        ORDER BY d.finished_at DESC LIMIT 5) r) h"
        " WHERE b.state IN ('submitted', 'running') AND h.usual_s IS NOT NULL"
        " AND clock_timestamp() - coalesce(b.started_at, b.submitted_at)"
        "   > make_interval(secs => greatest($2, h.usual_s * $1))",
        factor,
        at_least_s,
    )
    out = []
    for row in rows:
        values = dict(row)
        ran_s, usual_s = float(values.pop("ran_s")), float(values.pop("usual_s"))
        out.append(SlowJob(_build(values), ran_s, usual_s))
    return out


async def note_waiting(
    conn: Connection, build_id: UUID, state: BuildState, note: str | None
) -> Build | None:
    """Say why the build waits; None if it moved meanwhile or already says so."""
    row = await conn.fetchrow(
        f"UPDATE builds SET waiting = $3 WHERE id = $1 AND state = $2"  # noqa: S608
        f" AND waiting IS DISTINCT FROM $3 RETURNING {_BUILD_COLUMNS}",
        build_id,
        state.value,
        note,
    )
    return _build(row) if row else None
