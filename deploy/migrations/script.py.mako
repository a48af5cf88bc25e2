"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

from sql_script import run

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


UPGRADE = """
"""

DOWNGRADE = """
"""



def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
