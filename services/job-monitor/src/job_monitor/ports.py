from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol


@dataclass(frozen=True)
class JobState:
    state: Literal["pending", "running", "done", "failed"]
    error: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    bytes_billed: int | None = None
    affected_rows: int | None = None  # DML only: rows a MERGE inserted plus deleted


class JobInspector(Protocol):
    async def state(self, job_id: str, wait_s: float) -> JobState:
        """The job's state; while it runs, wait up to `wait_s` for its end (a long-poll)."""

    async def cancel(self, job_id: str) -> None: ...

    async def drop_table(self, table: str) -> None: ...

    async def counts(self, table: str, build_time: datetime | None) -> tuple[int, int]:
        """Members in the table now, and how many of them entered at `build_time`."""
