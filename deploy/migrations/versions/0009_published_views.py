"""The bus is the only road: each service reads only its own tables, and what another
service needs of them is a documented read-only view its owner publishes (here). An
owner may change its tables as it likes as long as its views keep their columns.

Published by the gateway (segment-api), which owns segments, accounts, embeddings and
custom fields:
- `segment_definitions`: a segment's rules and state, for the compiler and scheduler;
- `segment_dependencies`: which segment embeds which, for the scheduler's planning;
- `account_settings`: an account's zone, schedule and thresholds;
- `account_fields`: an account's custom fields (the catalog every service compiles with).

Published by the scheduler, which owns builds, runs and the status projection:
- `build_log`: every build's record, for the gateway's build history and changes;
- `refresh_run_log`: refresh runs, for the gateway's run status;
- `segment_build_status`: each segment's projected status, which the gateway's own
  `segment_view` joins.

Published by the job monitor, which owns jobs:
- `job_outcomes`: what became of each job, for the scheduler's reconciler.

Revision ID: 0009
Revises: 0008
"""

from sql_script import run

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The gateway's view of a segment with its build projection (0008's columns), now over
# the scheduler's published view rather than its table.
SEGMENT_VIEW = """
SELECT s.id, s.account_id, s.name, s.description, s.object_type, s.rules, s.rules_version,
       s.is_custom, s.status, s.created_by, s.created_at, s.updated_at,
       CASE WHEN b.state IN ('requested', 'submitted', 'running') THEN 'in_progress'
            WHEN b.state IS NULL OR (s.status = 'active' AND b.rules_version < s.rules_version)
                 THEN 'pending'
            ELSE b.state END AS build_status,
       b.built_at, b.member_count, b.bytes_billed,
       CASE WHEN b.state IN ('failed', 'skipped', 'canceled') THEN b.reason END AS last_error,
       b.build_id, b.state AS build_state, b.since AS build_since, b.reason AS build_reason,
       b.cause AS build_cause, b.rules_version AS build_rules_version,
       b.waiting AS build_waiting
  FROM segments s LEFT JOIN {projection} b ON b.segment_id = s.id"""

UPGRADE = f"""
CREATE VIEW segment_definitions AS
SELECT id, account_id, name, object_type, rules, rules_version, status, is_custom, created_by,
       created_at, updated_at
  FROM segments;

CREATE VIEW segment_dependencies AS
SELECT parent_id, child_id FROM segment_embeddings;

CREATE VIEW account_settings AS
SELECT id, time_zone, refresh_cron, cost_threshold_bytes, refresh_priority,
       anomaly_change_pct, anomaly_min_changed, created_at
  FROM accounts;

CREATE VIEW account_fields AS
SELECT account_id, object_type, name, field_type, label, options FROM custom_fields;

CREATE VIEW build_log AS
SELECT id, account_id, segment_id, state, cause, mode, run_id, origin_segment_id,
       rules_version, reason, job_id, requested_at, submitted_at, started_at, finished_at,
       duration_ms, member_count, entered, exited, bytes_billed, build_time, anomaly, waiting
  FROM builds;

CREATE VIEW refresh_run_log AS
SELECT id, account_id, trigger, state, scheduled_for, started_at, finished_at
  FROM refresh_runs;

CREATE VIEW segment_build_status AS
SELECT segment_id, build_id, state, since, reason, cause, rules_version, built_at,
       member_count, bytes_billed, waiting
  FROM segment_build_state;

CREATE VIEW job_outcomes AS
SELECT id, build_id, status, member_count, bytes_billed, error, entered, exited, duration_ms
  FROM jobs;

DROP VIEW segment_view;
CREATE VIEW segment_view AS{SEGMENT_VIEW.format(projection="segment_build_status")}
"""  # noqa: S608 - constant view definitions

DOWNGRADE = f"""
DROP VIEW segment_view;
CREATE VIEW segment_view AS{SEGMENT_VIEW.format(projection="segment_build_state")};
DROP VIEW job_outcomes, segment_build_status, refresh_run_log, build_log, account_fields,
    account_settings, segment_dependencies, segment_definitions
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
