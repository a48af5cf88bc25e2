"""One default "All Data" segment per account.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

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


def _run(script: str) -> None:
    # asyncpg prepares each statement, and a prepared statement holds only one.
    for statement in script.split(";"):
        if statement.strip():
            op.execute(statement)


def upgrade() -> None:
    _run(UPGRADE)


def downgrade() -> None:
    _run(DOWNGRADE)
