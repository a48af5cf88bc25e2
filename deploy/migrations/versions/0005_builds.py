"""Builds owned by the scheduler: one row per build, a projection per segment, run progress.

Before this revision four services decided builds and three wrote
`segments.build_status`. Now the scheduler alone writes `builds`,
`segment_build_state` (the projection of each segment's latest build) and
`refresh_runs`; the gateway reads them through `segment_view`, and the job
monitor keeps only its own `jobs`.

Revision ID: 0005
Revises: 0004
"""

from sql_script import run

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE builds (
    id                 uuid PRIMARY KEY,
    account_id         uuid NOT NULL,
    segment_id         uuid NOT NULL,
    cause              text NOT NULL CHECK (cause IN ('create', 'edit', 'unarchive', 'rebuild',
                                                      'refresh', 'cascade', 'recovery')),
    mode               text NOT NULL CHECK (mode IN ('build', 'refresh')),
    run_id             uuid,
    origin_segment_id  uuid,
    rules_version      integer NOT NULL,
    state              text NOT NULL CHECK (state IN ('requested', 'submitted', 'running', 'done',
                                                      'failed', 'skipped', 'canceled')),
    reason             text,
    job_id             text,
    attempts           integer NOT NULL DEFAULT 0,
    requested_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    dispatched_at      timestamptz,
    submitted_at       timestamptz,
    started_at         timestamptz,
    finished_at        timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    member_count       bigint,
    entered            bigint,
    exited             bigint,
    bytes_billed       bigint,
    duration_ms        bigint
);
-- At most one build of a segment waits, and at most one is in flight: a newer request
-- while one waits joins it, one while a build runs becomes the single follow-up.
CREATE UNIQUE INDEX builds_one_queued_uq ON builds (segment_id)
    WHERE state = 'requested' AND dispatched_at IS NULL;
CREATE UNIQUE INDEX builds_one_in_flight_uq ON builds (segment_id)
    WHERE state IN ('submitted', 'running') OR (state = 'requested' AND dispatched_at IS NOT NULL);
CREATE INDEX builds_open_idx ON builds (account_id)
    WHERE state IN ('requested', 'submitted', 'running');
CREATE INDEX builds_segment_idx ON builds (segment_id, requested_at DESC);
CREATE INDEX builds_run_idx ON builds (run_id) WHERE run_id IS NOT NULL;

CREATE TABLE segment_build_state (
    segment_id     uuid PRIMARY KEY,
    account_id     uuid NOT NULL,
    build_id       uuid NOT NULL,
    state          text NOT NULL,
    cause          text NOT NULL,
    reason         text,
    since          timestamptz NOT NULL,
    rules_version  integer NOT NULL,
    built_at       timestamptz,
    built_version  integer,
    member_count   bigint,
    bytes_billed   bigint
);

INSERT INTO builds (id, account_id, segment_id, cause, mode, rules_version, state, reason,
                    requested_at, finished_at, updated_at, member_count, bytes_billed)
SELECT gen_random_uuid(), account_id, id, 'create', 'build', coalesce(built_version, rules_version),
       CASE build_status WHEN 'done' THEN 'done' WHEN 'failed' THEN 'failed'
                         WHEN 'canceled' THEN 'canceled' ELSE 'failed' END,
       CASE WHEN build_status IN ('pending', 'in_progress')
            THEN 'interrupted by the upgrade to scheduler-owned builds: rebuild it'
            ELSE last_error END,
       coalesce(built_at, updated_at), coalesce(built_at, updated_at),
       coalesce(built_at, updated_at),
       member_count, bytes_billed
  FROM segments WHERE built_at IS NOT NULL OR build_status <> 'pending';

INSERT INTO segment_build_state (segment_id, account_id, build_id, state, cause, reason, since,
                                 rules_version, built_at, built_version, member_count, bytes_billed)
SELECT b.segment_id, b.account_id, b.id, b.state, b.cause, b.reason, b.updated_at, b.rules_version,
       s.built_at, s.built_version, s.member_count, s.bytes_billed
  FROM builds b JOIN segments s ON s.id = b.segment_id;

DROP TABLE build_history;
ALTER TABLE segments DROP COLUMN build_status, DROP COLUMN built_at, DROP COLUMN built_version,
    DROP COLUMN member_count, DROP COLUMN bytes_billed, DROP COLUMN last_error;

-- What the gateway reads: the segment with its build projection.
CREATE VIEW segment_view AS
SELECT s.id, s.account_id, s.name, s.description, s.object_type, s.rules, s.rules_version,
       s.is_custom, s.status, s.created_by, s.created_at, s.updated_at,
       -- New rules that no build has taken up yet (the scheduler is a message away): pending.
       CASE WHEN b.state IN ('requested', 'submitted', 'running') THEN 'in_progress'
            WHEN b.state IS NULL OR (s.status = 'active' AND b.rules_version < s.rules_version)
                 THEN 'pending'
            ELSE b.state END AS build_status,
       b.built_at, b.member_count, b.bytes_billed,
       CASE WHEN b.state IN ('failed', 'skipped', 'canceled') THEN b.reason END AS last_error,
       b.build_id, b.state AS build_state, b.since AS build_since, b.reason AS build_reason,
       b.cause AS build_cause, b.rules_version AS build_rules_version
  FROM segments s LEFT JOIN segment_build_state b ON b.segment_id = s.id;

ALTER TABLE refresh_runs ADD COLUMN state text NOT NULL DEFAULT 'running'
    CHECK (state IN ('running', 'finished'));
ALTER TABLE refresh_runs ADD COLUMN finished_at timestamptz;
ALTER TABLE refresh_runs ADD COLUMN summary jsonb;
UPDATE refresh_runs SET state = 'finished', finished_at = started_at;

-- The source document skips segments billed over 10 GB in a scheduled refresh.
ALTER TABLE accounts ADD COLUMN cost_threshold_bytes bigint NOT NULL DEFAULT 10000000000;

ALTER TABLE jobs ADD COLUMN build_id uuid;
ALTER TABLE jobs ADD COLUMN started_announced boolean NOT NULL DEFAULT false;
ALTER TABLE jobs ADD COLUMN poll_errors integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN last_poll_error text;
ALTER TABLE jobs ADD COLUMN duration_ms bigint
"""

DOWNGRADE = """
ALTER TABLE jobs DROP COLUMN build_id, DROP COLUMN started_announced, DROP COLUMN poll_errors,
    DROP COLUMN last_poll_error, DROP COLUMN duration_ms;
ALTER TABLE accounts DROP COLUMN cost_threshold_bytes;
ALTER TABLE refresh_runs DROP COLUMN state, DROP COLUMN finished_at, DROP COLUMN summary;
DROP VIEW segment_view;
ALTER TABLE segments ADD COLUMN build_status text NOT NULL DEFAULT 'pending',
    ADD COLUMN built_at timestamptz, ADD COLUMN built_version integer,
    ADD COLUMN member_count bigint, ADD COLUMN bytes_billed bigint, ADD COLUMN last_error text;
UPDATE segments s SET built_at = b.built_at, built_version = b.built_version,
    member_count = b.member_count, bytes_billed = b.bytes_billed,
    build_status = CASE WHEN b.state IN ('requested', 'submitted', 'running') THEN 'in_progress'
                        WHEN b.state = 'skipped' THEN 'failed' ELSE b.state END
  FROM segment_build_state b WHERE b.segment_id = s.id;
CREATE TABLE build_history (
    id bigserial PRIMARY KEY, segment_id uuid NOT NULL, account_id uuid NOT NULL,
    job_id text NOT NULL UNIQUE, status text NOT NULL, rules_version integer NOT NULL,
    member_count bigint, duration_ms bigint, error text, finished_at timestamptz NOT NULL,
    entered bigint, exited bigint
);
DROP TABLE segment_build_state, builds
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
