"""Naming of the warehouse objects the platform owns (datasets, member tables)."""

from __future__ import annotations

from uuid import UUID


def dataset_id(account_id: UUID) -> str:
    """Each account's analytics data and segment tables live in their own dataset."""
    return f"acct_{account_id.hex}"


def segment_table(segment_id: UUID) -> str:
    return f"segment_{segment_id.hex}"


# The member table's one column, whatever the object type's own id column is called.
MEMBER_ID_COLUMN = "object_id"
