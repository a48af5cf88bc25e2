"""People before batch, and builds submitted side by side.

The compiler's: `build_requests` holds each `build.requested` command from the moment
it is consumed until its job is submitted (or it ends without one). The command is
acknowledged once the row commits, so the compiler can submit many builds at a time,
fairly across accounts, and a crash loses nothing: a claimed row whose lease lapsed is
taken again, and its job id makes a second submission harmless.

The account's choice of BigQuery priority for its refresh runs (INTERACTIVE, or BATCH
to stay off the concurrent-query quota).

The scheduler's: why a build waits longer than expected, while it waits (the dependency
it waits for, or that its job runs far longer than its recent builds), on the build and
on the segment's status projection. Cleared by any move of the build.

Revision ID: 0008
Revises: 0007
"""

from sql_script import run

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The gateway's view of a segment with its build projection, as 0005 made it.
VIEW_COLUMNS = """\
SELECT s.id, s.account_id, s.name, s.description, s.object_type, s.rules, s.rules_version,
       s.is_custom, s.status, s.created_by, s.created_at, s.updated_at,
       CASE WHEN b.state IN ('requested', 'submitted', 'running') THEN 'in_progress'
            WHEN b.state IS NULL OR (s.status = 'active' AND b.rules_version < s.rules_version)
                 THEN 'pending'
            ELSE b.state END AS build_status,
       b.built_at, b.member_count, b.bytes_billed,
       CASE WHEN b.state IN ('failed', 'skipped', 'canceled') THEN b.reason END AS last_error,
       b.build_id, b.state AS build_state, b.since AS build_since, b.reason AS build_reason,
       b.cause AS build_cause, b.rules_version AS build_rules_version"""

UPGRADE = f"""
CREATE TABLE build_requests (
    build_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    command jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX build_requests_account_idx ON build_requests (account_id, received_at);
ALTER TABLE accounts ADD COLUMN refresh_priority text NOT NULL DEFAULT 'INTERACTIVE'
    CHECK (refresh_priority IN ('INTERACTIVE', 'BATCH'));
ALTER TABLE builds ADD COLUMN waiting text;
ALTER TABLE segment_build_state ADD COLUMN waiting text;
CREATE OR REPLACE VIEW segment_view AS
{VIEW_COLUMNS},
       b.waiting AS build_waiting
  FROM segments s LEFT JOIN segment_build_state b ON b.segment_id = s.id
"""

DOWNGRADE = f"""
DROP VIEW segment_view;
CREATE VIEW segment_view AS
{VIEW_COLUMNS}
  FROM segments s LEFT JOIN segment_build_state b ON b.segment_id = s.id;
ALTER TABLE segment_build_state DROP COLUMN waiting;
ALTER TABLE builds DROP COLUMN waiting;
ALTER TABLE accounts DROP COLUMN refresh_priority;
DROP TABLE build_requests
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
