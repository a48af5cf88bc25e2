"""Segments applied to reports, per user; sticky ones (no report name) apply to all.

Revision ID: 0004
Revises: 0003
"""

from sql_script import run

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE segment_reports (
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      text NOT NULL,
    report_name  text NOT NULL DEFAULT '',
    segment_id   uuid NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    apply_chart  boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, user_id, report_name, segment_id)
)
"""

DOWNGRADE = """
DROP TABLE segment_reports
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
