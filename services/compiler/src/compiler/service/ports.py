"""What the build service needs from the outside world, as small interfaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from contracts.messages import JobPriority
from contracts.rules import RuleSet


@dataclass(frozen=True)
class SegmentRecord:
    id: UUID
    account_id: UUID
    object_type: str
    rules: RuleSet | None  # None for the default "All Data" segment
    rules_version: int
    status: str
    time_zone: str
    built: bool  # a member table exists, so a refresh can MERGE into it


class JobRefusedError(Exception):
    """BigQuery refused the job itself (an invalid statement): retrying cannot help."""


class JobSubmitter(Protocol):
    async def submit(
        self,
        job_id: str,
        sql: str,
        params: dict[str, Any],
        labels: dict[str, str],
        priority: JobPriority,
    ) -> None:
        """Submit a query job at this BigQuery priority; submitting an id that already
        exists is not an error.

        Raises JobRefusedError when BigQuery refuses the statement."""

    async def prepare_membership(self, log_table: str, member_table: str, view_sql: str) -> None:
        """Make sure the segment's membership log exists (partitioned by the day an interval
        closed, clustered by member) and that its member table is the view `view_sql` of
        the open intervals: a member table left as a plain table by an older build is
        replaced by the view. Idempotent. Raises JobRefusedError when BigQuery refuses."""

    async def drop_table(self, table: str) -> None: ...

    def project(self) -> str: ...
