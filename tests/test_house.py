"""Rules of the house that a reviewer would otherwise have to remember: checked over the
source trees, so a change that breaks one fails here with the file and line."""

from __future__ import annotations

import ast
import re
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


# --- the bus is the only road --------------------------------------------------------------

# Each table's one owner: its only writer, and the only service that reads it.
OWNED = {
    "segment-api": {
        "accounts",
        "segments",
        "segment_embeddings",
        "custom_fields",
        "segment_reports",
        "recipient_lists",
        "segment_view",
    },
    "scheduler": {"builds", "segment_build_state", "refresh_runs"},
    "compiler": {"build_requests"},
    "job-monitor": {"jobs"},
    "notifier": set(),
}
# The read-only views an owner publishes for the others (migration 0009 documents them).
PUBLISHED = {
    "segment_definitions": "segment-api",
    "segment_dependencies": "segment-api",
    "account_settings": "segment-api",
    "account_fields": "segment-api",
    "build_log": "scheduler",
    "refresh_run_log": "scheduler",
    "segment_build_status": "scheduler",
}
# Delivery: each service's own messages out (outbox) and in (processed_messages).
DELIVERY = {"outbox", "processed_messages"}
SOURCES_OF = {
    "segment-api": ROOT / "services" / "segment-api" / "src",
    "compiler": ROOT / "services" / "compiler" / "src" / "compiler" / "service",
    "job-monitor": ROOT / "services" / "job-monitor" / "src",
    "scheduler": ROOT / "services" / "scheduler" / "src",
    "notifier": ROOT / "services" / "notifier" / "src",
    "runtime": ROOT / "runtime" / "src",  # shared plumbing: delivery and published views
}
MIGRATIONS = ROOT / "deploy" / "migrations" / "versions"
_SQL = re.compile(r"\b(FROM|JOIN|INSERT INTO|UPDATE|DELETE FROM|TRUNCATE)\s+([a-z_][a-z0-9_]*)\b")


_DDL = re.compile(r"\b(CREATE (?:TABLE|VIEW|OR REPLACE VIEW)|DROP (?:TABLE|VIEW)) ([a-z_, \n]+)")


def relations() -> set[str]:
    """Every table and view there is after the migrations' upgrades, in order."""
    there: set[str] = set()
    for path in sorted(MIGRATIONS.glob("*.py")):
        upgrade = re.search(r'^UPGRADE = f?"""(.*?)"""', path.read_text(), re.S | re.M)
        assert upgrade, f"{path.name} has no UPGRADE script"
        for verb, names in _DDL.findall(upgrade.group(1)):
            if verb.startswith("CREATE"):
                there.add(names.split()[0].rstrip(","))
            else:
                there -= {n.strip() for n in names.split(",")}
    return there


def sql_uses(root: Path) -> list[tuple[str, str, str]]:
    """(file, verb, relation) for every relation the SQL under `root` names."""
    known = relations()
    return [
        (str(path.relative_to(ROOT)), verb, name)
        for path in sorted(root.rglob("*.py"))
        for verb, name in _SQL.findall(path.read_text())
        if name in known
    ]


def test_every_table_and_view_has_one_owner():
    owned = set().union(*OWNED.values())
    assert relations() == owned | set(PUBLISHED) | DELIVERY
    assert not owned & set(PUBLISHED)
    documented = (MIGRATIONS / "0009_published_views.py").read_text().split('"""')[1]
    assert [v for v in PUBLISHED if f"`{v}`" not in documented] == []


def test_each_service_reads_only_its_own_tables_and_the_views_others_publish():
    trespass = []
    for service, root in SOURCES_OF.items():
        own = OWNED.get(service, set()) | DELIVERY
        for path, verb, name in sql_uses(root):
            reading = verb in ("FROM", "JOIN")
            if name in own or (reading and PUBLISHED.get(name) not in (None, service)):
                continue
            trespass.append(f"{service}: {verb} {name} ({path})")
    assert trespass == []
    # the check sees what it checks: every service's SQL was found
    assert {s for s, root in SOURCES_OF.items() if sql_uses(root)} == set(SOURCES_OF) - {"notifier"}


# A service's code, by the top-level module that holds it (the compiler library itself is
# shared: the gateway previews with it; its `service` package is the compiler service).
SERVICE_MODULES = {
    "segment-api": "segment_api",
    "compiler": "compiler.service",
    "job-monitor": "job_monitor",
    "scheduler": "scheduler",
    "notifier": "notifier",
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_service_imports_another():
    crossings = []
    for service, root in SOURCES_OF.items():
        if service == "runtime":
            continue
        others = [m for s, m in SERVICE_MODULES.items() if s != service]
        for path in sorted(root.rglob("*.py")):
            crossings += [
                f"{service} imports {name} ({path.relative_to(ROOT)})"
                for name in _imports(path)
                if any(name == m or name.startswith(m + ".") for m in others)
            ]
    assert crossings == []
    # the check sees what it checks: the gateway does import the compiler library
    assert "compiler" in {
        n.split(".")[0] for p in SOURCES_OF["segment-api"].rglob("*.py") for n in _imports(p)
    }
