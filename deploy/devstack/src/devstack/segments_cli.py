"""`segctl segments`: an account's segments as YAML files in a directory, through the
gateway's API (so a customer's CI job can do the same with curl): export them, plan what
applying a directory would do, apply it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from devstack.config import StackConfig

app = typer.Typer(help="Segments as code: export, plan and apply YAML files.", no_args_is_help=True)
console = Console()

Api = Annotated[str | None, typer.Option(help="The gateway (default: the local stack's).")]
Token = Annotated[
    str | None,
    typer.Option(envvar="SEGP_TOKEN", help="A bearer token (default: the demo account's)."),
]


def _client(api: str | None, token: str | None) -> httpx.Client:
    cfg = StackConfig()
    if token is None:
        from devstack.cli import _demo_token  # noqa: PLC0415 - the demo account's, locally

        token = _demo_token(cfg)
    base = api or f"http://127.0.0.1:{cfg.api_port}"
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120)


def _files(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(directory.glob("*.yaml"))}


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        body = response.json()
        console.print(
            f"[red]{body.get('title', response.status_code)}[/red]: {body.get('detail', '')}"
        )
        for error in body.get("errors", []):
            console.print(f"  {error['message']}")
        raise typer.Exit(1)
    result: dict[str, Any] = response.json()
    return result


def _show(plan: dict[str, Any]) -> None:
    if not plan["changes"]:
        console.print("No changes.")
    for c in plan["changes"]:
        counts = f"+{c['would_enter'] or 0} -{c['would_exit'] or 0}"
        console.print(f"  {c['action']:8} {c['name']}  ({counts})  {c['file'] or ''}")


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(help="Where to write the files.")],
    api: Api = None,
    token: Token = None,
) -> None:
    """Write each active segment as DIRECTORY/<name>.yaml."""
    with _client(api, token) as http:
        files = _answer(http.get("/v1/segments/code"))["files"]
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    console.print(f"wrote {len(files)} files to {directory}")


@app.command()
def plan(
    directory: Annotated[Path, typer.Argument(help="The files to plan.")],
    api: Api = None,
    token: Token = None,
) -> None:
    """Show what `apply` would create, change and archive."""
    with _client(api, token) as http:
        _show(_answer(http.post("/v1/segments/code/plan", json={"files": _files(directory)})))


@app.command()
def test(directory: Annotated[Path, typer.Argument(help="Segment files and their tests.")]) -> None:
    """Run each segment with a <name>.test.yaml beside it against that file's fixture rows
    on a local emulator of its own; fail on any member it selects or misses wrongly."""
    from devstack.segment_tests import Runner  # noqa: PLC0415 - the emulator is heavy
    from devstack.warehouse import scratch_emulator  # noqa: PLC0415

    with scratch_emulator() as client:
        outcomes = Runner(client, directory).run()
    for o in outcomes:
        console.print(f"  {'pass' if o.passed else 'FAIL'}  {o.file}")
        for line in o.errors:
            console.print(f"        {line}")
        if o.missing:
            console.print(f"        expected but not selected: {', '.join(o.missing)}")
        if o.unexpected:
            console.print(f"        selected but not expected: {', '.join(o.unexpected)}")
    if not outcomes:
        console.print("no <name>.test.yaml files found")
    if not all(o.passed for o in outcomes):
        raise typer.Exit(1)


@app.command()
def apply(
    directory: Annotated[Path, typer.Argument(help="The files to apply.")],
    api: Api = None,
    token: Token = None,
) -> None:
    """Plan, then apply that plan (refused if the account moved in between)."""
    files = _files(directory)
    with _client(api, token) as http:
        planned = _answer(http.post("/v1/segments/code/plan", json={"files": files}))
        _show(planned)
        if planned["changes"]:
            body = {"files": files, "fingerprint": planned["fingerprint"]}
            _answer(http.post("/v1/segments/code/apply", json=body))
            console.print("applied")
