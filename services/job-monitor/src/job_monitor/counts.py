"""After a build or refresh: how many members the table holds, and how many entered in
this run (rows stamped with its build time). The job monitor's one query of its own."""

from __future__ import annotations

import re

from contracts.warehouse import ENTERED_AT_COLUMN

BUILD_TIME_PARAM = "build_time"
# A job's target table is `project.dataset.table`, written by the compiler; each part is
# still checked before it is quoted into the statement.
_PART = re.compile(r"^[A-Za-z0-9_-]{1,1024}$")


def counts_sql(table: str) -> str:
    parts = table.split(".")
    if len(parts) != 3 or not all(_PART.match(p) for p in parts):
        raise ValueError(f"not a table reference: {table!r}")
    project, dataset, name = parts
    source = f"`{project}`.`{dataset}`.`{name}`"  # each part matched _PART above
    entered = f"COUNTIF(`{ENTERED_AT_COLUMN}` = @{BUILD_TIME_PARAM})"
    return f"SELECT COUNT(*) AS `members`, {entered} AS `entered` FROM {source}"  # noqa: S608
