"""Every example on the generated reference page compiles against the catalog."""

from __future__ import annotations

import pytest

from compiler.typed import check
from contracts.catalog import base_catalog
from contracts.reference import _CONDITION_EXAMPLES, _EXAMPLE_VALUES
from contracts.rules import RuleSet

EMBEDDED = {"6f1c2a5e-3b8d-4c1e-9a77-2f0b5e9d1c44"}


@pytest.mark.parametrize(
    "example",
    [e for _, _, e in _CONDITION_EXAMPLES]
    + [{"type": "property", **v} for v in _EXAMPLE_VALUES.values()],
)
def test_example_compiles(example):
    rs = RuleSet.model_validate(
        {"object": "customer", "root": {"type": "group", "rules": [example]}}
    )
    assert check(rs, base_catalog()) == []
