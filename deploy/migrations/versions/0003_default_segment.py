"""One default "All Data" segment per account.

Revision ID: 0003
Revises: 0002
"""

from sql_script import run

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE UNIQUE INDEX segments_one_default_uq ON segments (account_id) WHERE NOT is_custom
"""

DOWNGRADE = """
DROP INDEX segments_one_default_uq
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
