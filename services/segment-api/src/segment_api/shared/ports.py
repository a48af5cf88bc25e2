"""What the gateway needs from BigQuery and Redis, as small interfaces (fakes in tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class DryRunResult:
    ok: bool
    error: str | None = None
    bytes_processed: int | None = None


class QueryTimeoutError(Exception):
    """The warehouse did not answer within the budget (the job was canceled)."""


class WarehouseError(Exception):
    """The warehouse refused the query; `missing` when the account's tables do not exist."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


class Warehouse(Protocol):
    def project(self) -> str: ...

    async def dry_run(self, sql: str, params: dict[str, Any]) -> DryRunResult: ...

    async def query(
        self, sql: str, params: dict[str, Any], *, timeout_s: float
    ) -> list[dict[str, Any]]: ...

    async def columns(self, table: str) -> list[tuple[str, str, str]]:
        """(name, type, mode) of a table's columns; empty when there is no such table."""

    async def write_table(
        self, sql: str, params: dict[str, Any], table: str, *, timeout_s: float
    ) -> None:
        """Replace `table` (project.dataset.table) with the query's rows."""

    async def drop_table(self, table: str) -> None: ...
