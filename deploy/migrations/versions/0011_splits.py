"""Splits and holdouts: a segment's members divided into named buckets.

The gateway's: `segments.split` holds the split as stored (its seed and each bucket's
slots, `contracts.splits`), or NULL. Its published `segment_definitions` gains the
column (the compiler needs the splits of segments embedded by bucket), and its own
`segment_view` shows it. Both views keep their columns and add this one last.

Revision ID: 0011
Revises: 0010
"""

from sql_script import run

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DEFINITIONS = """
SELECT id, account_id, name, object_type, rules, rules_version, status, is_custom, created_by,
       created_at, updated_at{extra}
  FROM segments"""

# 0009's segment_view, with the split last.
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
       b.waiting AS build_waiting{extra}
  FROM segments s LEFT JOIN segment_build_status b ON b.segment_id = s.id"""

UPGRADE = f"""
ALTER TABLE segments ADD COLUMN split jsonb;
CREATE OR REPLACE VIEW segment_definitions AS{DEFINITIONS.format(extra=", split")};
CREATE OR REPLACE VIEW segment_view AS{SEGMENT_VIEW.format(extra=", s.split")}
"""

DOWNGRADE = f"""
DROP VIEW segment_view;
DROP VIEW segment_definitions;
CREATE VIEW segment_definitions AS{DEFINITIONS.format(extra="")};
CREATE VIEW segment_view AS{SEGMENT_VIEW.format(extra="")};
ALTER TABLE segments DROP COLUMN split
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
