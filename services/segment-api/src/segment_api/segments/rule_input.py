"""Rules as callers send them, made canonical and checked against the plan: the canonical
`rules`, the CRM frontend's `rule_set` (its errors name its rows) or the older
`ruleGroups`; and the `rule_set` a segment reads back as."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID, uuid4

from compiler.errors import RuleError, RuleSetInvalidError
from compiler.typed import TypedRuleSet, type_rule_set
from contracts.catalog import Catalog
from contracts.criteria import (
    Converted,
    CriteriaError,
    CriteriaRuleSet,
    NoCriteriaForm,
    from_canonical,
    to_canonical,
)
from contracts.legacy import LegacyConversionError, from_legacy
from contracts.limits import DEFAULT_PLAN, PLANS, UNLIMITED, PlanLimits
from contracts.rules import RuleSet
from segment_api.accounts import repository as accounts_repository
from segment_api.http.problems import FieldError, ProblemError, invalid_rules
from segment_api.segments import embedding, repository
from segment_api.segments.schemas import RulesInput
from segment_runtime.auth import Principal
from segment_runtime.catalogs import account_catalog
from segment_runtime.db import Connection


def _problem(title: str, errors: list[FieldError]) -> ProblemError:
    return ProblemError(422, "invalid_condition", title, f"{len(errors)} error(s)", errors=errors)


def canonical(
    body: RulesInput, catalog: Catalog, limits: PlanLimits
) -> tuple[RuleSet, Converted | None]:
    """The canonical rules of exactly one given shape, and, for a `rule_set`, how its
    rows map to canonical paths. A `rule_set` is held to the plan's groups and rows per
    group as its own rows count them (the folds of mixed AND/OR are not extra groups)."""
    given = [x is not None for x in (body.rules, body.rule_set, body.rule_groups)]
    if sum(given) != 1:
        raise ProblemError(
            422,
            "invalid_request",
            "The request is invalid",
            "give exactly one shape",
            errors=[
                FieldError(
                    path="rules",
                    code="missing",
                    message="give exactly one of rules, rule_set and ruleGroups",
                )
            ],
        )
    if body.rules is not None:
        return body.rules, None
    if body.rule_set is not None:
        _within_plan(body.rule_set, limits)
        try:
            converted = to_canonical(body.rule_set, catalog)
        except CriteriaError as exc:
            raise _problem(
                "The criteria are invalid",
                [FieldError(path=p, code=c, message=m) for p, c, m in exc.errors],
            ) from exc
        return converted.rules, converted
    try:
        legacy = from_legacy(
            {"ruleGroups": body.rule_groups or [], "conjunction": body.conjunction}
        )
    except LegacyConversionError as exc:
        raise _problem(
            "The rule groups could not be converted",
            [FieldError(path=p, code="invalid_legacy_rule", message=m) for p, m in exc.errors],
        ) from exc
    return legacy, None


def _within_plan(rule_set: CriteriaRuleSet, limits: PlanLimits) -> None:
    errors = []
    if len(rule_set.groups) > limits.max_groups:
        errors.append(
            FieldError(
                path="rule_set.groups",
                code="limit_exceeded",
                message=f"at most {limits.max_groups} groups on this plan",
            )
        )
    errors += [
        FieldError(
            path=f"rule_set.groups[{i}].criteria",
            code="limit_exceeded",
            message=f"at most {limits.max_conditions_per_group} conditions per group on this plan",
        )
        for i, g in enumerate(rule_set.groups)
        if len(g.criteria) > limits.max_conditions_per_group
    ]
    if errors:
        raise _problem("The criteria exceed the plan", errors)


def located(
    errors: Sequence[RuleError | FieldError], converted: Converted | None
) -> list[FieldError]:
    """Errors found on the canonical tree, at the rows the caller sent."""
    return [
        FieldError(
            path=converted.criteria_path(e.path) if converted else e.path,
            code=e.code,
            message=e.message,
        )
        for e in errors
    ]


def shown(rules: RuleSet | None, catalog: Catalog) -> tuple[CriteriaRuleSet | None, str | None]:
    """The criteria rows a segment reads back as, or why there are none."""
    if rules is None:
        return None, "the default segment has no rules"
    try:
        return from_canonical(rules, catalog), None
    except NoCriteriaForm as exc:
        return None, str(exc)


async def embedding_errors(
    conn: Connection, principal: Principal, segment_id: UUID | None, rules: RuleSet
) -> list[FieldError]:
    """What is wrong with the segments `rules` embed. One the caller may not see reads
    as absent, so a rule cannot learn another user's segment's size or members."""
    named = embedding.embedded(rules)
    if not named:
        return []
    found = await repository.segment_kinds(
        conn, principal.account_id, named, created_by=principal.owner_filter
    )
    known = {k: embedding.Known(*v) for k, v in found.items()}
    graph = await repository.embedding_graph(conn, principal.account_id)
    parent = segment_id or uuid4()  # an unsaved rule set is nobody's child yet
    graph.pop(parent, None)  # its own edges are the ones being replaced
    return embedding.check(parent, rules.object, rules, known, graph)


@dataclass(frozen=True)
class Checked:
    """A request's rules, canonical, and the typed tree the compiler made of them once."""

    rules: RuleSet
    typed: TypedRuleSet


async def checked(
    conn: Connection,
    principal: Principal,
    body: RulesInput,
    *,
    segment_id: UUID | None = None,
) -> Checked:
    """The canonical rule set, checked against the account's catalog, its plan and the
    segments the caller may see (as `segment_id`, when it is an existing segment's);
    errors name the rows the caller sent."""
    catalog = await account_catalog(conn, principal.account_id)
    plan = await accounts_repository.account_plan(conn, principal.account_id)
    limits = PLANS.get(plan, PLANS[DEFAULT_PLAN])
    rules, converted = canonical(body, catalog, limits)
    errors: list[RuleError | FieldError] = []
    typed: TypedRuleSet | None = None
    try:
        # A rule_set was held to the plan row by row; its folds are not extra groups.
        splits = await repository.splits_of(
            conn,
            principal.account_id,
            embedding.embedded(rules),
            created_by=principal.owner_filter,
        )
        typed = type_rule_set(rules, catalog, UNLIMITED if converted else limits, splits=splits)
    except RuleSetInvalidError as exc:
        errors += exc.errors
    errors += await embedding_errors(conn, principal, segment_id, rules)
    if errors or typed is None:
        raise invalid_rules(located(errors, converted))
    return Checked(rules, typed)


async def record_embeddings(conn: Connection, segment_id: UUID, rules: RuleSet) -> None:
    """What the segment embeds, once `checked` passed under the embedding lock."""
    named = embedding.embedded(rules)
    await repository.set_embeddings(conn, segment_id, named)
