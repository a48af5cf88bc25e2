"""Runs a migration's SQL script statement by statement.

asyncpg prepares each statement, and a prepared statement holds only one; so a
script is split on semicolons (migrations keep semicolons out of comments and strings).
"""

from __future__ import annotations

from alembic import op


def run(script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            op.execute(statement)
