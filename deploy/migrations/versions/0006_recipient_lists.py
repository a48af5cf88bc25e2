"""Recipient lists (Send Campaign): a segment's reachable members on one channel, frozen
into a warehouse table that a broadcast service reads page by page. The gateway is
the only writer of this table and of the warehouse tables it names.

Revision ID: 0006
Revises: 0005
"""

from sql_script import run

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE recipient_lists (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id),
    segment_id  uuid NOT NULL,
    channel     text NOT NULL,
    recipients  integer NOT NULL CHECK (recipients > 0),
    table_name  text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX recipient_lists_segment ON recipient_lists (account_id, segment_id, created_at DESC)
"""

DOWNGRADE = """
DROP TABLE recipient_lists
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
