"""Segment files: what is written reads back the same, embeds go by name, and a bad file
is reported with its line and path."""

from __future__ import annotations

from uuid import uuid4

from contracts.rules import RuleSet
from segment_api.as_code.files import Parsed, parse, render, rules_with_ids, slug

VIPS = uuid4()
RULES = RuleSet.model_validate(
    {
        "object": "customer",
        "root": {
            "type": "group",
            "rules": [
                {"type": "property", "field": "age", "operator": "gt", "value": 30},
                {"type": "segment", "segment_id": str(VIPS), "operator": "not_in", "bucket": "A"},
            ],
        },
    }
)


def test_a_segment_written_reads_back_the_same_with_embeds_by_name():
    text = render("Adults", "over 30", RULES, {VIPS: "VIPs"}, None)
    assert "segment: VIPs" in text and str(VIPS) not in text
    parsed = parse("adults.yaml", text)
    assert isinstance(parsed, Parsed)
    assert parsed.embeds == ["VIPs"]
    assert rules_with_ids(parsed, {"vips": VIPS}) == RULES
    assert (
        render("Adults", "over 30", rules_with_ids(parsed, {"vips": VIPS}), {VIPS: "VIPs"}, None)
        == text
    )


def test_a_bad_file_names_its_line_and_path():
    text = (
        "name: Odd\nobject: customer\nrules:\n  type: group\n  rules:\n"
        "  - type: property\n    field: age\n    operator: gt\n    value: [1\n"
    )
    (error,) = parse("odd.yaml", text)
    assert (error.file, error.line) == ("odd.yaml", 10) and "not YAML" in error.message
    extra = "name: Odd\nobject: customer\ncolour: red\nrules: {type: group, rules: []}\n"
    errors = parse("odd.yaml", extra)
    assert isinstance(errors, list)
    assert {(e.line, e.path) for e in errors} >= {(3, "colour")}


def test_file_names_are_slugs():
    assert slug("Adults in Jakarta (2026)") == "adults-in-jakarta-2026"
    assert slug("!!!") == "segment"


def test_an_embedded_segment_with_no_name_to_give_keeps_its_id():
    text = render("Adults", None, RULES, {}, None)  # VIPs is not the caller's to name
    assert f"segment_id: {VIPS}" in text
    parsed = parse("adults.yaml", text)
    assert isinstance(parsed, Parsed) and parsed.embeds == []
    assert rules_with_ids(parsed, {}) == RULES
