"""`segctl segments test DIR`: each segment file with a `<name>.test.yaml` beside it runs
against the fixture rows that file holds, on a local emulator, and must select exactly
the members it expects. A fixture's tables are catalog objects and its columns their
fields; anything else is reported with its file and line, as a file that does not parse.

    rows:                  # catalog object → its rows
      customer:
        - {customer_id: c1, age: 41}
      customer_event:
        - {event_id: e1, customer_id: c1, kind: ecommerce, event_name: purchase,
           event_date: "2026-06-01"}
    today: "2026-06-30"    # the build date (default: today, UTC)
    expect: [c1]           # the members, exactly
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import yaml
from google.cloud import bigquery
from sqlglot import exp

from compiler import statements
from compiler.service.adapters import prepare_membership
from compiler.sql import CompiledQuery, Target, compiled
from contracts.catalog import Catalog, base_catalog
from contracts.clock import SYSTEM_CLOCK
from contracts.warehouse import LOG_SUFFIX, MEMBER_ID_COLUMN, dataset_id, segment_table
from devstack.warehouse import create_object_table, load_rows
from segment_api.as_code import files
from segment_runtime.bigquery import to_query_parameters


@dataclass
class Outcome:
    file: str
    passed: bool
    errors: list[str] = field(default_factory=list)  # file:line: what
    missing: list[str] = field(default_factory=list)  # expected, not selected
    unexpected: list[str] = field(default_factory=list)  # selected, not expected


def _line(node: yaml.Node | None, *keys: Any) -> int:
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            node = node.value[key]
    return node.start_mark.line + 1 if node is not None else 1


def _fixture(path: Path, catalog: Catalog) -> tuple[dict[str, Any], list[str]]:
    text = path.read_text()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        fixture = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return {}, [f"{path.name}:{mark.line + 1 if mark else 1}: not YAML"]
    errors = []
    for name, rows in (fixture.get("rows") or {}).items():
        obj = catalog.objects.get(name)
        if obj is None:
            errors.append(f"{path.name}:{_line(node, 'rows', name)}: rows.{name}: no such object")
            continue
        columns = {f.column for f in obj.fields} | {obj.id_column}
        for i, row in enumerate(rows or []):
            for column in row:
                if column not in columns:
                    where = _line(node, "rows", name, i)
                    errors.append(
                        f"{path.name}:{where}: rows.{name}[{i}].{column}: not a column of {name}"
                    )
    if not isinstance(fixture.get("expect"), list):
        errors.append(f"{path.name}:{_line(node, 'expect')}: expect: a list of member ids")
    return fixture, errors


class Runner:
    def __init__(self, client: bigquery.Client, directory: Path) -> None:
        self.client = client
        self.directory = directory
        self.catalog = base_catalog()
        self.parsed: dict[str, files.Parsed] = {}
        self.errors: dict[str, list[str]] = {}
        for path in sorted(directory.glob("*.yaml")):
            if path.name.endswith(".test.yaml"):
                continue
            result = files.parse(path.name, path.read_text())
            if isinstance(result, list):
                self.errors[path.name] = [
                    f"{e.file}:{e.line}: {e.path}: {e.message}" for e in result
                ]
            else:
                self.parsed[result.segment.name.lower()] = result

    def _run(self, query: CompiledQuery, today: date) -> list[Any]:
        runtime = {"build_id": str(uuid4()), "rules_version": 1}
        declared = {k: v for k, v in runtime.items() if k in query.runtime_params}
        params = query.bind(at=SYSTEM_CLOCK.now(), today=today, **declared)
        config = bigquery.QueryJobConfig(query_parameters=to_query_parameters(params))
        return list(self.client.query(query.sql, job_config=config).result())

    def _build(self, target: Target, key: str, today: date, ids: dict[str, UUID]) -> UUID:
        """The segment's member table from the fixture, its embedded segments first."""
        if key in ids:
            return ids[key]
        parsed = self.parsed[key]
        for name in parsed.embeds:
            self._build(target, name.lower(), today, ids)
        segment_id = uuid4()
        rules = files.rules_with_ids(parsed, ids)
        table = segment_table(segment_id)
        log = f"{table}{LOG_SUFFIX}"
        prepare_membership(
            self.client,
            target.name(log),
            target.name(table),
            statements.member_view(target, log).sql,
        )
        m = statements.membership(rules, target, self.catalog)
        self._run(statements.record(m, log), today)
        ids[key] = segment_id
        return segment_id

    def test(self, key: str) -> Outcome:
        parsed = self.parsed[key]
        fixture_path = self.directory / f"{Path(parsed.file).stem}.test.yaml"
        fixture, errors = _fixture(fixture_path, self.catalog)
        unknown = [n for n in parsed.embeds if n.lower() not in self.parsed]
        errors += [
            f"{parsed.file}: rules: no segment named {n!r} in {self.directory}" for n in unknown
        ]
        if errors:
            return Outcome(fixture_path.name, False, errors)
        account = uuid4()
        target = Target(self.client.project, dataset_id(account))
        self.client.create_dataset(f"{self.client.project}.{target.dataset}")
        for name, rows in fixture["rows"].items():
            table = create_object_table(self.client, account, self.catalog.objects[name])
            load_rows(self.client, table, rows or [])
        today = date.fromisoformat(str(fixture.get("today") or SYSTEM_CLOCK.today("UTC")))
        built = self._build(target, key, today, {})
        read = exp.select(exp.column(MEMBER_ID_COLUMN, quoted=True)).from_(
            target.table(segment_table(built))
        )
        members = {str(r[MEMBER_ID_COLUMN]) for r in self._run(compiled(read), today)}
        expected = {str(x) for x in fixture["expect"]}
        return Outcome(
            fixture_path.name,
            members == expected,
            missing=sorted(expected - members),
            unexpected=sorted(members - expected),
        )

    def run(self) -> list[Outcome]:
        outcomes = [Outcome(name, False, errors) for name, errors in self.errors.items()]
        for key, parsed in sorted(self.parsed.items()):
            if (self.directory / f"{Path(parsed.file).stem}.test.yaml").exists():
                outcomes.append(self.test(key))
        return outcomes
