"""Rules of the house that a reviewer would otherwise have to remember: checked over the
source trees, so a change that breaks one fails here with the file and line."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    ROOT / "contracts" / "src",
    ROOT / "runtime" / "src",
    ROOT / "deploy" / "devstack" / "src",
    *sorted((ROOT / "services").glob("*/src")),
    *sorted((ROOT / "services").glob("*/benchmarks")),
]
CLOCK = ROOT / "contracts" / "src" / "contracts" / "clock.py"
# (module, function) pairs that read the wall clock directly.
WALL_CLOCK = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
}


def _python_files() -> list[Path]:
    return sorted(p for root in SOURCES for p in root.rglob("*.py"))


def wall_clock_reads(source: str) -> list[int]:
    """Lines of `source` that call the wall clock directly (datetime.now(), time.time()...)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr) in WALL_CLOCK
        ):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_each_way_of_reading_the_clock():
    source = "a = datetime.now(UTC)\nb = date.today()\nc = time.time()\nd = clock.now()\n"
    assert wall_clock_reads(source) == [1, 2, 3]


def test_only_the_clock_module_reads_the_wall_clock():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files()
        if path != CLOCK
        for line in wall_clock_reads(path.read_text())
    ]
    assert len(_python_files()) > 100  # the trees were found
    assert found == [], "ask the injected Clock (contracts.clock) instead"


LONGEST_CLASS = 210  # "about 200 lines": past it a class holds more than one job


def test_no_class_grows_past_about_two_hundred_lines():
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size} lines)"
        for path in _python_files()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and (size := (node.end_lineno or node.lineno) - node.lineno + 1) > LONGEST_CLASS
    ]
    assert long == [], "split it along its seams"
