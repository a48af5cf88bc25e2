"""Membership with a memory: each build records the time its MERGE stamped on the
segment's membership log (so members can be rebuilt as of any build) and whether its
size moved suspiciously (an anomaly, flagged, never blocking). The thresholds are the
account's. Entered and exited are now exact for every kind of build.

Revision ID: 0007
Revises: 0006
"""

from sql_script import run

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE builds ADD COLUMN build_time timestamptz;
ALTER TABLE builds ADD COLUMN anomaly text;
ALTER TABLE accounts ADD COLUMN anomaly_change_pct integer NOT NULL DEFAULT 50
    CHECK (anomaly_change_pct > 0);
ALTER TABLE accounts ADD COLUMN anomaly_min_changed integer NOT NULL DEFAULT 100
    CHECK (anomaly_min_changed >= 0);
-- The job monitor's: a job whose statement changed a segment's log owes a
-- membership.changed announcement of who entered and left, made after job.completed, in
-- build order per segment, so the build's own end never waits for reading the ids.
ALTER TABLE jobs ADD COLUMN announce_due boolean NOT NULL DEFAULT false;
ALTER TABLE jobs ADD COLUMN announced_at timestamptz;
ALTER TABLE jobs ADD COLUMN announce_error text;
CREATE INDEX jobs_announce_due_idx ON jobs (segment_id, submitted_at) WHERE announce_due
"""

DOWNGRADE = """
ALTER TABLE jobs DROP COLUMN announce_due, DROP COLUMN announced_at, DROP COLUMN announce_error;
ALTER TABLE accounts DROP COLUMN anomaly_change_pct, DROP COLUMN anomaly_min_changed;
ALTER TABLE builds DROP COLUMN build_time, DROP COLUMN anomaly
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
