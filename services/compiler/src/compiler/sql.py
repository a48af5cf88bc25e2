"""SQL building blocks every statement shares, the compiler's and the gateway's read
models alike: where an account's data lives, a compiled statement with its parameters,
and quoted columns, tables and named parameters in BigQuery's dialect."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlglot import exp

from compiler.dialect import DIALECT
from contracts.clock import SYSTEM_CLOCK

__all__ = [
    "BUILD_DATE_PARAM",
    "BUILD_ID_PARAM",
    "BUILD_TIME_PARAM",
    "DIALECT",
    "ROW_ALIAS",
    "RULES_VERSION_PARAM",
    "CompiledQuery",
    "Target",
    "column",
    "compiled",
    "param",
    "table",
]

# The build date (relative windows count back from it, in the account's zone) and the
# build time (members who enter are stamped with it): bound when a statement runs.
BUILD_DATE_PARAM = "build_date"
BUILD_TIME_PARAM = "build_time"
# A build's MERGE stamps the intervals it opens and closes with its id and rules version.
BUILD_ID_PARAM = "build_id"
RULES_VERSION_PARAM = "rules_version"
ROW_ALIAS = "t"


def param(name: str) -> exp.Expr:
    return exp.Parameter(this=exp.Var(this=name))


def column(name: str, alias: str = ROW_ALIAS) -> exp.Column:
    return exp.column(name, table=alias, quoted=True)


def table(project: str, dataset: str, name: str, alias: str | None = None) -> exp.Table:
    return exp.Table(
        this=exp.to_identifier(name, quoted=True),
        db=exp.to_identifier(dataset, quoted=True),
        catalog=exp.to_identifier(project, quoted=True),
        alias=exp.TableAlias(this=exp.to_identifier(alias)) if alias else None,
    )


@dataclass(frozen=True)
class Target:
    """Where the account's data lives: `project.dataset`."""

    project: str
    dataset: str

    def table(self, name: str, alias: str | None = None) -> exp.Table:
        return table(self.project, self.dataset, name, alias)

    def name(self, table_name: str) -> str:
        return f"{self.project}.{self.dataset}.{table_name}"


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: dict[str, Any]
    # Parameters bound at run time rather than compile time.
    runtime_params: frozenset[str] = field(default_factory=frozenset)
    # JSON path of each rule node, in the order of the `n<i>` columns a node count returns.
    node_paths: tuple[str, ...] = ()
    # JSON path of each condition, in the order of the `v<j>` columns an explanation returns.
    value_paths: tuple[str, ...] = ()

    def bind(
        self, *, at: datetime | None = None, today: date | None = None, **values: Any
    ) -> dict[str, Any]:
        """The statement's parameters for a run at `at` (now if not given): the build time
        is `at`, the build date `today` in the account's zone (else `at`'s date), and
        `values` are the other run-time values the statement declared (a page, a sample
        size, the viewer). A value it did not declare, or one missing, is a bug."""
        now = at or SYSTEM_CLOCK.now()
        runtime = {BUILD_TIME_PARAM: now, BUILD_DATE_PARAM: today or now.date()}
        runtime = {k: v for k, v in runtime.items() if k in self.runtime_params}
        unknown = values.keys() - self.runtime_params
        missing = self.runtime_params - runtime.keys() - values.keys()
        if unknown or missing:
            raise KeyError(
                f"parameters not declared: {sorted(unknown)}, unbound: {sorted(missing)}"
            )
        return {**self.params, **runtime, **values}


def compiled(tree: exp.Expr, *runtime: str) -> CompiledQuery:
    """A statement with no parameters of its own but the run-time ones it names."""
    return CompiledQuery(tree.sql(dialect=DIALECT, copy=False), {}, frozenset(runtime))
