"""`segctl segments test`: segment files run against the fixture rows beside them on the
emulator; a right expectation passes, a wrong one fails with the members that differ,
and a fixture column the catalog does not know is named with its file and line."""

from __future__ import annotations

from pathlib import Path

from devstack.segment_tests import Runner

ADULTS = """\
name: Adults
object: customer
rules:
  type: group
  rules:
  - {type: property, field: age, operator: gte, value: 30}
  - {type: segment, segment: Buyers, operator: not_in}
"""
BUYERS = """\
name: Buyers
object: customer
rules:
  type: group
  rules:
  - type: event
    event: ecommerce
    name: purchase
    operator: gte
    value: 1
    window: {kind: previous_days, days: 30}
"""
ROWS = """\
rows:
  customer:
    - {customer_id: c1, age: 41}
    - {customer_id: c2, age: 25}
    - {customer_id: c3, age: 52}
  customer_event:
    - {event_id: e1, customer_id: c3, kind: ecommerce, event_name: purchase,
       event_date: "2026-06-20"}
    - {event_id: e2, customer_id: c1, kind: ecommerce, event_name: purchase,
       event_date: "2026-01-02"}
today: "2026-06-30"
"""


def write(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def outcomes(emulator, directory: Path) -> dict[str, object]:
    return {o.file: o for o in Runner(emulator.client(), directory).run()}


def test_right_expectations_pass_and_a_wrong_one_names_the_members(emulator, tmp_path):
    d = write(
        tmp_path / "ok",
        **{
            "adults.yaml": ADULTS,
            "adults.test.yaml": ROWS + "expect: [c1]\n",  # c3 bought lately: not an adult here
            "buyers.yaml": BUYERS,
            "buyers.test.yaml": ROWS + "expect: [c3, c2]\n",  # wrong: c2 never bought
        },
    )
    found = outcomes(emulator, d)
    assert found["adults.test.yaml"].passed
    wrong = found["buyers.test.yaml"]
    assert not wrong.passed
    assert (wrong.missing, wrong.unexpected) == (["c2"], [])


def test_a_fixture_column_the_catalog_does_not_know_is_named_with_its_line(emulator, tmp_path):
    d = write(
        tmp_path / "bad",
        **{
            "buyers.yaml": BUYERS,
            "buyers.test.yaml": "rows:\n  customer:\n    - {customer_id: c1}\n"
            "    - {customer_id: c2, shoe_size: 44}\nexpect: []\n",
        },
    )
    (only,) = outcomes(emulator, d).values()
    assert not only.passed
    assert only.errors == [
        "buyers.test.yaml:4: rows.customer[1].shoe_size: not a column of customer"
    ]
