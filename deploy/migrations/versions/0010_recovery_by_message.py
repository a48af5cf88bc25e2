"""Recovery asks through the bus instead of reading the job monitor's records.

The scheduler's reconciler no longer reads `job_outcomes`: a build that stopped
hearing news is sent to the compiler again, which re-states `job.submitted` for the
job it already made, and the job monitor, hearing of a job it already follows or
finished, re-states `job.started` and `job.completed`. So the view goes.

`builds.restates` counts how often an in-flight build was asked about that way; the
next ask waits twice as long (a long job is not asked about every few seconds).

Revision ID: 0010
Revises: 0009
"""

from sql_script import run

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = """
DROP VIEW job_outcomes;
ALTER TABLE builds ADD COLUMN restates integer NOT NULL DEFAULT 0
"""

DOWNGRADE = """
ALTER TABLE builds DROP COLUMN restates;
CREATE VIEW job_outcomes AS
SELECT id, build_id, status, member_count, bytes_billed, error, entered, exited, duration_ms
  FROM jobs
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
