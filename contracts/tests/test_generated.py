"""The committed schema and reference page are what the contracts generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import reference

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("path", "generate"),
    [
        (reference.SCHEMA_PATH, reference.rules_schema),
        (reference.MESSAGES_PATH, reference.messages_schema),
        (reference.PUSH_PATH, reference.push_schema),
        (reference.REFERENCE_PATH, reference.reference_markdown),
    ],
)
def test_committed_copy_is_current(path, generate):
    assert (ROOT / path).read_text() == generate(), f"{path} is stale: run `uv run segctl docs`"


def test_the_reference_lists_every_operator_of_every_field_type():
    page = reference.reference_markdown()
    from contracts.catalog import OPERATORS_BY_TYPE

    for field_type, operators in OPERATORS_BY_TYPE.items():
        assert f"| `{field_type.value}` |" in page
        for op in operators:
            assert f"`{op.value}`" in page
