"""Account custom fields; build times and entered/exited counts of builds.

Revision ID: 0002
Revises: 0001
"""

from sql_script import run

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE custom_fields (
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    object_type  text NOT NULL,
    name         text NOT NULL CHECK (name ~ '^cf_[a-z0-9_]{1,60}$'),
    field_type   text NOT NULL,
    label        text NOT NULL,
    options      jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (account_id, object_type, name)
);
ALTER TABLE jobs ADD COLUMN build_time timestamptz;
ALTER TABLE jobs ADD COLUMN entered bigint;
ALTER TABLE jobs ADD COLUMN exited bigint;
ALTER TABLE build_history ADD COLUMN entered bigint;
ALTER TABLE build_history ADD COLUMN exited bigint
"""

DOWNGRADE = """
ALTER TABLE build_history DROP COLUMN entered, DROP COLUMN exited;
ALTER TABLE jobs DROP COLUMN build_time, DROP COLUMN entered, DROP COLUMN exited;
DROP TABLE custom_fields
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
