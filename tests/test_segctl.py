"""The operators' command line says what it found, including nothing, and its help
answers without importing the warehouse client or the migration tool."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from devstack import cli
from devstack import replay as dead


def test_help_does_not_import_the_heavy_modules():
    probe = (
        "import sys; from devstack import cli; "
        "print(','.join(m for m in ('google.cloud.bigquery', 'alembic', 'honcho.manager')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_replay_says_when_there_is_nothing_to_replay(monkeypatch):
    async def none(bootstrap: str) -> list[dead.DeadLetter]:
        return []

    monkeypatch.setattr(dead, "read_dead_letters", none)
    for flags in (["--dry-run"], []):
        result = CliRunner().invoke(cli.app, ["replay", *flags])
        assert result.exit_code == 0, result.output
        assert "nothing to replay" in result.output
