"""Naming of the warehouse objects the platform owns (datasets, member tables)."""

from __future__ import annotations

from uuid import UUID


def dataset_id(account_id: UUID) -> str:
    """Each account's analytics data and segment tables live in their own dataset."""
    return f"acct_{account_id.hex}"


def segment_table(segment_id: UUID) -> str:
    return f"segment_{segment_id.hex}"


# The member table's columns: the member's id, whatever the object type's own id column
# is called, and when the member entered (the build time of the build that added it).
MEMBER_ID_COLUMN = "object_id"
ENTERED_AT_COLUMN = "entered_at"


def membership_log_table(segment_id: UUID) -> str:
    """The segment's membership log: one row per interval in which an object was a member.
    `segment_<id>` is a view of its open intervals."""
    return f"{segment_table(segment_id)}{LOG_SUFFIX}"


def log_of(member_table: str) -> str:
    """The log behind a member table reference (`project.dataset.segment_<id>`)."""
    return f"{member_table}{LOG_SUFFIX}"


LOG_SUFFIX = "_log"
# The log's columns. An interval opens when a build finds the object a member and closes
# when a later build no longer does; each end names its build and rules version. The log
# is partitioned by the day an interval closed, so the open intervals (today's members)
# are its `__NULL__` partition: the member view and each build's MERGE read only them.
# The member's id while its interval is open, null once closed: the MERGE joins on it
# alone, a plain equality (an extra "is open" condition in the join made DuckDB, behind
# the local emulator, fall back to a nested loop: 18 s instead of 36 ms at 100,000).
OPEN_KEY_COLUMN = "open_key"
ENTERED_BUILD_COLUMN = "entered_build"
ENTERED_VERSION_COLUMN = "entered_version"
EXITED_AT_COLUMN = "exited_at"
EXITED_BUILD_COLUMN = "exited_build"
EXITED_VERSION_COLUMN = "exited_version"
LOG_COLUMNS: dict[str, str] = {
    MEMBER_ID_COLUMN: "STRING",
    ENTERED_AT_COLUMN: "TIMESTAMP",
    ENTERED_BUILD_COLUMN: "STRING",
    ENTERED_VERSION_COLUMN: "INT64",
    EXITED_AT_COLUMN: "TIMESTAMP",
    EXITED_BUILD_COLUMN: "STRING",
    EXITED_VERSION_COLUMN: "INT64",
    OPEN_KEY_COLUMN: "STRING",
}
