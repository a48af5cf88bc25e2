"""What a build changed, read back from the segment's membership log by build id: the
job monitor's own queries. Every interval the build's MERGE opened or closed carries its
id, so the counts and ids are exact for every kind of build, and asking twice gives the
same answer."""

from __future__ import annotations

import re

from contracts.warehouse import (
    ENTERED_BUILD_COLUMN,
    EXITED_AT_COLUMN,
    EXITED_BUILD_COLUMN,
    MEMBER_ID_COLUMN,
)

BUILD_ID_PARAM = "build_id"
BUILD_TIME_PARAM = "build_time"
# A job's target table is `project.dataset.table`, written by the compiler; each part is
# still checked before it is quoted into the statement.
_PART = re.compile(r"^[A-Za-z0-9_-]{1,1024}$")
_OPEN = f"`{EXITED_AT_COLUMN}` IS NULL"
# What a build touched is open (the log's __NULL__ partition) or was closed at its build
# time or later (by it, or by a later build): the filter reads those partitions only, not
# the history before the build.
_TOUCHED = f"({_OPEN} OR `{EXITED_AT_COLUMN}` >= @{BUILD_TIME_PARAM})"
_ENTERED = f"`{ENTERED_BUILD_COLUMN}` = @{BUILD_ID_PARAM}"
_EXITED = f"`{EXITED_BUILD_COLUMN}` = @{BUILD_ID_PARAM}"


def _source(table: str) -> str:
    parts = table.split(".")
    if len(parts) != 3 or not all(_PART.match(p) for p in parts):
        raise ValueError(f"not a table reference: {table!r}")
    project, dataset, name = parts
    return f"`{project}`.`{dataset}`.`{name}`"  # each part matched _PART above


def counts_sql(log_table: str) -> str:
    """Members after the build (asked right at its end), and how many it let in and out."""
    return (
        f"SELECT COUNTIF({_OPEN}) AS `members`, COUNTIF({_ENTERED}) AS `entered`,"  # noqa: S608
        f" COUNTIF({_EXITED}) AS `exited` FROM {_source(log_table)} WHERE {_TOUCHED}"
    )


def changed_ids_sql(log_table: str) -> str:
    """Who entered and who left in the build, entered first, each in id order."""
    return (
        f"SELECT `{MEMBER_ID_COLUMN}` AS `member_id`, {_EXITED} AS `exited`"  # noqa: S608
        f" FROM {_source(log_table)} WHERE {_TOUCHED} AND (({_ENTERED}) OR {_EXITED})"
        f" ORDER BY `exited`, `member_id`"
    )
