"""What the gateway needs from BigQuery, as a small interface (a fake in tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class DryRunResult:
    ok: bool
    error: str | None = None
    bytes_processed: int | None = None


class Warehouse(Protocol):
    def project(self) -> str: ...

    async def dry_run(self, sql: str, params: dict[str, Any]) -> DryRunResult: ...
