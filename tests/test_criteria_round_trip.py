"""The RFC frontend's `rule_set` and the canonical rules are one language: every rule set
the hypothesis strategies generate that the criteria form can express survives
rules -> rule_set -> rules -> rule_set unchanged, and selects the same members (by the
independent reference evaluator, over generated demo data)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.criteria import (
    CriteriaRuleSet,
    NoCriteriaForm,
    from_canonical,
    to_canonical,
)
from contracts.rules import RuleSet
from devstack import demo_data, seeding
from reference import Evaluator
from rule_strategies import RuleSpace

BUILD_DATE = date(2026, 6, 30)
CATALOG = seeding.demo_catalog()
EMBEDDED = [uuid4()]


@pytest.fixture(scope="module")
def world() -> tuple[RuleSpace, Evaluator]:
    tables = {
        obj.table: rows
        for obj, rows in demo_data.warehouse(
            CATALOG, demo_data.Scale(80), seed=11, today=BUILD_DATE
        )
    }
    customers = [r[CATALOG.objects["customer"].id_column] for r in tables["customers"]]
    segments = {EMBEDDED[0]: set(customers[::3])}
    return (
        # The criteria form cannot say order or habit: drawn without those conditions.
        RuleSpace(CATALOG, tables, BUILD_DATE, {"customer": EMBEDDED}, behaviours=False),
        Evaluator(CATALOG, tables, BUILD_DATE, segments),
    )


def _normal(c: CriteriaRuleSet) -> dict[str, Any]:
    return c.model_dump(mode="json", by_alias=True)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_every_expressible_rule_set_round_trips_with_the_same_members(world, data):
    space, evaluator = world
    rules = RuleSet.model_validate(
        data.draw(space.rule_set(CATALOG.objects["customer"]), label="rules")
    )
    try:
        criteria = from_canonical(rules, CATALOG)
    except NoCriteriaForm:
        return
    again = to_canonical(criteria, CATALOG).rules
    assert _normal(from_canonical(again, CATALOG)) == _normal(criteria)
    assert evaluator.members(again) == evaluator.members(rules)


def test_the_strategies_reach_the_criteria_form_often(world):
    """Guards the property above against a strategy that never produces a criteria form."""
    space, _ = world
    expressible = 0

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(raw=space.rule_set(CATALOG.objects["customer"]))
    def count(raw: dict[str, Any]) -> None:
        nonlocal expressible
        try:
            from_canonical(RuleSet.model_validate(raw), CATALOG)
            expressible += 1
        except NoCriteriaForm:
            pass

    count()
    assert expressible >= 40
