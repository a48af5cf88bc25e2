"""Statements built from one membership query, so build, count and preview agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.catalog import OBJECT_TYPES, ObjectType
from contracts.rules import RuleSet
from contracts.warehouse import MEMBER_ID_COLUMN
from sqlglot import exp

from compiler import predicates
from compiler.predicates import BUILD_DATE_PARAM, ROW_ALIAS, Params
from compiler.typed import TypedRuleSet, type_rule_set

DIALECT = "bigquery"


@dataclass(frozen=True)
class Target:
    """Where the account's data lives: `project.dataset`."""

    project: str
    dataset: str

    def table(self, name: str, alias: str | None = None) -> exp.Table:
        return exp.Table(
            this=exp.to_identifier(name, quoted=True),
            db=exp.to_identifier(self.dataset, quoted=True),
            catalog=exp.to_identifier(self.project, quoted=True),
            alias=exp.TableAlias(this=exp.to_identifier(alias)) if alias else None,
        )


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: dict[str, Any]
    # Parameters bound at run time rather than compile time (the build date).
    runtime_params: frozenset[str] = field(default_factory=frozenset)

    def bind(self, runtime: dict[str, Any]) -> dict[str, Any]:
        missing = self.runtime_params - runtime.keys()
        if missing:
            raise KeyError(f"runtime parameters not bound: {sorted(missing)}")
        return {**self.params, **{k: runtime[k] for k in self.runtime_params}}


def _all_members(obj: ObjectType, target: Target) -> exp.Select:
    return (
        exp.select(
            exp.alias_(
                exp.column(obj.id_column, table=ROW_ALIAS, quoted=True),
                MEMBER_ID_COLUMN,
                quoted=True,
            )
        )
        .distinct()
        .from_(target.table(obj.table, ROW_ALIAS))
    )


def members_select(typed: TypedRuleSet, target: Target) -> tuple[exp.Select, Params]:
    """SELECT DISTINCT the ids of the objects the rules match."""
    params = Params()
    where = predicates.group(typed.root, params)
    return _all_members(typed.object, target).where(where), params


def _compiled(tree: exp.Expr, params: Params) -> CompiledQuery:
    sql = tree.sql(dialect=DIALECT)
    runtime = frozenset({BUILD_DATE_PARAM}) if f"@{BUILD_DATE_PARAM}" in sql else frozenset()
    return CompiledQuery(sql, params.values, runtime)


def build(rule_set: RuleSet, target: Target, table: str) -> CompiledQuery:
    """CREATE OR REPLACE the member table."""
    select, params = members_select(type_rule_set(rule_set), target)
    create = exp.Create(this=target.table(table), kind="TABLE", replace=True, expression=select)
    return _compiled(create, params)


def build_all(object_type: str, target: Target, table: str) -> CompiledQuery:
    """The member table of a segment without rules: every object of the type."""
    select = _all_members(OBJECT_TYPES[object_type], target)
    create = exp.Create(this=target.table(table), kind="TABLE", replace=True, expression=select)
    return _compiled(create, Params())


def predicate(rule_set: RuleSet) -> CompiledQuery:
    """Only the membership condition over the object's row alias `t` (golden tests show it)."""
    params = Params()
    return _compiled(predicates.group(type_rule_set(rule_set).root, params), params)


def count(rule_set: RuleSet, target: Target) -> CompiledQuery:
    """How many objects match (the preview count and the built table agree by construction)."""
    select, params = members_select(type_rule_set(rule_set), target)
    tree = exp.select(exp.alias_(exp.Count(this=exp.Star()), "matched")).from_(
        exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier("m")))
    )
    return _compiled(tree, params)
