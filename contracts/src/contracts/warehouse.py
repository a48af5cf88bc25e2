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
