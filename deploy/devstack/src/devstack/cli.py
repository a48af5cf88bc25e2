"""segctl: the local stack's command line.

Heavy modules (the BigQuery client, alembic, the process manager) are imported by the
commands that use them, so `segctl --help` and `segctl token` answer at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
import subprocess
import sys
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer
from rich.console import Console

from devstack.config import DEMO_ACCOUNT_ID, DEMO_TIME_ZONE, REPO_ROOT, StackConfig

if TYPE_CHECKING:
    from google.cloud import bigquery

    from segment_runtime.settings import BigQuerySettings

app = typer.Typer(
    help="Run and inspect the segment platform on the local stack.", no_args_is_help=True
)
console = Console()


def _segments_commands() -> None:
    from devstack.segments_cli import app as segments  # noqa: PLC0415

    app.add_typer(segments, name="segments")


_segments_commands()


def _bigquery(cfg: StackConfig, endpoint: str | None = None) -> BigQuerySettings:
    from segment_runtime.settings import BigQuerySettings  # noqa: PLC0415

    return BigQuerySettings.model_validate(
        {
            "BIGQUERY_PROJECT": cfg.bigquery_project,
            "BIGQUERY_ENDPOINT": endpoint or cfg.bigquery_endpoint,
        }
    )


def _seed(cfg: StackConfig, count: int, *, force: bool, emulator_url: str | None = None) -> None:
    """Seeds through a short-lived emulator (the supervisor starts the long-lived one), or
    through a running one at `emulator_url` (the compose stack's)."""
    from devstack import processes  # noqa: PLC0415
    from segment_runtime.bigquery import make_client  # noqa: PLC0415

    if emulator_url:
        _load(make_client(_bigquery(cfg, emulator_url)), count, force=force)
        return
    proc = processes.emulator(cfg)
    emulator = subprocess.Popen(  # noqa: S603 - argv built from our own configuration
        proc.argv, env=proc.full_env(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        processes.wait_for_port(cfg.bigquery_port)
        _load(make_client(_bigquery(cfg)), count, force=force)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


def _load(client: bigquery.Client, count: int, *, force: bool) -> None:
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from devstack import seeding  # noqa: PLC0415
    from devstack.demo_data import Scale  # noqa: PLC0415

    have = seeding.customers_loaded(client, DEMO_ACCOUNT_ID)
    if have >= count and not force:
        console.print(
            f"[green]✓[/] demo warehouse already holds {have:,} customers and their related rows"
        )
        return
    catalog = seeding.demo_catalog()
    columns = (
        TextColumn("seeding the demo warehouse"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("rows", total=seeding.total_rows(catalog, Scale(count)))
        seeding.seed_warehouse(
            client,
            DEMO_ACCOUNT_ID,
            count,
            catalog=catalog,
            progress=lambda n: progress.advance(task, n),
        )


def _prepare(
    cfg: StackConfig, *, seed: bool, force_seed: bool = False, emulator_url: str | None = None
) -> None:
    from devstack import database, seeding  # noqa: PLC0415
    from devstack.warehouse import ensure_spatial_extension  # noqa: PLC0415

    if emulator_url is None:  # the emulator this process starts needs DuckDB's extension
        ensure_spatial_extension()
    asyncio.run(database.ensure_database(cfg.database_url))
    database.migrate(cfg.database_url)
    console.print("[green]✓[/] database migrated")
    asyncio.run(seeding.ensure_account(cfg.database_url, DEMO_ACCOUNT_ID, "Demo", DEMO_TIME_ZONE))
    if seed:
        _seed(cfg, cfg.demo_customers, force=force_seed, emulator_url=emulator_url)


def _demo_token(cfg: StackConfig) -> str:
    from segment_runtime.auth import ALL_ACCESS, issue_token  # noqa: PLC0415

    return issue_token(
        cfg.secrets["jwt_secret"],
        account_id=DEMO_ACCOUNT_ID,
        user_id="demo-user",
        permissions=ALL_ACCESS,
    )


def _announce(cfg: StackConfig) -> None:
    from devstack import processes  # noqa: PLC0415

    with contextlib.suppress(TimeoutError):
        processes.wait_for_port(cfg.api_port, 120)
        processes.wait_for_port(cfg.notifier_port, 120)
        token = _demo_token(cfg)
        api = f"http://127.0.0.1:{cfg.api_port}"
        body = (
            '{"name": "Adults in Jakarta '
            "'"
            '"$(date +%s)"'
            "'"
            '", "rules": {"object": '
            '"customer", "root": {"type": "group", "combinator": "and", "rules": ['
            '{"type": "property", "field": "age", "operator": "gt", "value": 30}, '
            '{"type": "property", "field": "city", "operator": "equals", '
            '"value": "Jakarta"}]}}}'
        )
        console.print(
            f"\n[bold green]Segment platform is up[/]\n"
            f"  API          {api}   (docs: {api}/docs)\n"
            f"  Console      {api}/console/sign-in#token={token}\n"
            f"  websocket    ws://127.0.0.1:{cfg.notifier_port}/v1/ws?access_token=$TOKEN\n"
            f"  Pusher       127.0.0.1:{cfg.pusher_port} key {cfg.pusher_key}\n\n"
            f"  export TOKEN={token}\n\n"
            f'  curl -s -X POST {api}/v1/segments -H "Authorization: Bearer $TOKEN" '
            f"-H 'Content-Type: application/json' -d '{body}'\n\n"
            f'  then: curl -s {api}/v1/segments/<id> -H "Authorization: Bearer $TOKEN"\n'
            f"  watch topics: ./deploy/segctl tail job.completed\n",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def up(
    seed: Annotated[bool, typer.Option(help="Seed the demo warehouse if empty.")] = True,
) -> None:
    """Migrate, seed demo data, and run broker, emulator, soketi and all five services.

    Ctrl-C stops everything it started.
    """
    from honcho.manager import Manager  # noqa: PLC0415
    from honcho.printer import Printer  # noqa: PLC0415

    from devstack import processes  # noqa: PLC0415

    cfg = StackConfig()
    _prepare(cfg, seed=seed)
    manager = Manager(Printer(sys.stdout))
    for proc in [*processes.infrastructure(cfg), *processes.platform(cfg)]:
        manager.add_process(proc.name, shlex.join(proc.argv), env=proc.full_env())
    threading.Thread(target=_announce, args=(cfg,), daemon=True).start()
    manager.loop()
    sys.exit(manager.returncode)


@app.command()
def seed(
    customers: Annotated[int, typer.Option(min=1, help="How many demo customers.")] = 10_000,
    force: Annotated[bool, typer.Option(help="Reseed even if the data is there.")] = False,
    emulator: Annotated[
        str | None,
        typer.Option(help="A running emulator's URL (the compose stack's); else one is started."),
    ] = None,
) -> None:
    """Seed (or reseed) the demo account's warehouse: through a short-lived emulator while
    the local stack is stopped, or through a running one (--emulator)."""
    cfg = StackConfig(demo_customers=customers)
    _prepare(cfg, seed=True, force_seed=force, emulator_url=emulator)


@app.command()
def migrate() -> None:
    """Create the database if missing and apply migrations."""
    _prepare(StackConfig(), seed=False)


@app.command()
def token(
    account: Annotated[UUID, typer.Option(help="Account id.")] = DEMO_ACCOUNT_ID,
    user: Annotated[str, typer.Option(help="User id (the `sub` claim).")] = "demo-user",
) -> None:
    """Print a development token with every segment permission."""
    from segment_runtime.auth import issue_token  # noqa: PLC0415

    cfg = StackConfig()
    typer.echo(issue_token(cfg.secrets["jwt_secret"], account_id=account, user_id=user))


@app.command()
def docs() -> None:
    """Regenerate the API's OpenAPI document, the rule language's JSON Schema, the message
    schemas and the reference page."""
    from contracts import asyncapi, reference  # noqa: PLC0415
    from segment_api.http import openapi  # noqa: PLC0415

    for path, text in (
        (openapi.OPENAPI_PATH, openapi.openapi_json()),
        (reference.SCHEMA_PATH, reference.rules_schema()),
        (reference.MESSAGES_PATH, reference.messages_schema()),
        (reference.PUSH_PATH, reference.push_schema()),
        (asyncapi.ASYNCAPI_PATH, asyncapi.asyncapi_json()),
        (reference.REFERENCE_PATH, reference.reference_markdown()),
    ):
        target = REPO_ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        console.print(f"wrote {path}")


@app.command()
def replay(
    *,
    topic: Annotated[str | None, typer.Option(help="Only letters from this topic.")] = None,
    consumer: Annotated[
        str | None, typer.Option(help="Only letters this service refused (dl_consumer).")
    ] = None,
    since: Annotated[datetime | None, typer.Option(help="Only letters from this time on.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Only letters up to this time.")] = None,
    new_ids: Annotated[
        bool, typer.Option(help="Give each a new message id: every group takes it again.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Only list what would be replayed.")] = False,
) -> None:
    """Send dead letters back to their topic (after repairing what refused them). They keep
    their ids: groups that took them skip them, the one that refused takes them once."""
    from devstack import replay as dead  # noqa: PLC0415

    cfg = StackConfig()

    async def run() -> None:
        chosen = dead.choose(
            await dead.read_dead_letters(cfg.kafka_bootstrap),
            topic=topic,
            consumer=consumer,
            since=since.astimezone() if since else None,
            until=until.astimezone() if until else None,
        )
        for d in chosen:
            typer.echo(
                json.dumps(
                    {
                        "at": d.at.isoformat(),
                        "topic": d.topic,
                        "consumer": d.consumer,
                        "error": d.headers.get("dl_error", "")[:200],
                        "from": f"{d.partition}/{d.offset}",
                    }
                )
            )
        if not chosen:
            console.print("no dead letters match: nothing to replay", highlight=False)
            return
        if dry_run:
            console.print(f"{len(chosen)} dead letter(s) would be replayed", highlight=False)
            return
        sent = await dead.replay(cfg.kafka_bootstrap, chosen, new_ids=new_ids)
        console.print(f"replayed {sent} dead letter(s)", highlight=False)

    asyncio.run(run())


@app.command()
def rewind(
    topic: Annotated[str, typer.Argument(help="Topic to read again.")],
    group: Annotated[str, typer.Option(help="The consumer group, e.g. scheduler.job.completed.")],
    partition: Annotated[int, typer.Option(min=0)] = 0,
    offset: Annotated[int, typer.Option(min=0, help="Read again from this offset.")] = 0,
) -> None:
    """Make one consumer group read a topic partition again from an offset (stop its
    service first). Handlers skip what they already took, by message id."""
    from devstack import replay as dead  # noqa: PLC0415

    asyncio.run(dead.rewind(StackConfig().kafka_bootstrap, topic, partition, offset, group))
    console.print(f"{group} will read {topic}/{partition} again from offset {offset}")


@app.command()
def tail(
    topic: Annotated[str, typer.Argument(help="Topic name, e.g. segment.changed.")],
    from_beginning: Annotated[bool, typer.Option("--from-beginning")] = False,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    idle_timeout: Annotated[
        float | None, typer.Option(help="Stop after this many idle seconds.")
    ] = None,
) -> None:
    """Print a topic's records as JSON lines (no consumer group; commits nothing)."""
    from devstack.topics import tail as tail_topic  # noqa: PLC0415

    cfg = StackConfig()
    asyncio.run(
        tail_topic(
            cfg.kafka_bootstrap,
            topic,
            from_beginning=from_beginning,
            limit=limit,
            idle_timeout_s=idle_timeout,
        )
    )
