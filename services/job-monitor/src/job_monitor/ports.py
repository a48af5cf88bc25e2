from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from job_monitor.membership import BuildChanges


@dataclass(frozen=True)
class JobState:
    state: Literal["pending", "running", "done", "failed"]
    error: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    bytes_billed: int | None = None


class JobInspector(Protocol):
    async def state(self, job_id: str, wait_s: float) -> JobState:
        """The job's state; while it runs, wait up to `wait_s` for its end (a long-poll)."""

    async def cancel(self, job_id: str) -> None: ...

    async def changes(
        self, log_table: str, build_id: UUID, build_time: datetime | None, *, ids: bool
    ) -> BuildChanges:
        """What the build changed in the segment's membership log (and, with `ids`, who).
        Raises NotFoundError when the log does not exist."""


class NotFoundError(Exception):
    """The warehouse has no such table."""
