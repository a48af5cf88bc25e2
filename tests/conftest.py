"""The real local stack for cross-service tests.

The broker, the BigQuery emulator and soketi run as subprocesses on free
loopback ports; with a Docker engine present, the broker and soketi come from
testcontainers instead (the emulator has no image and always runs here). The
five services run as subprocesses of their real entry points, against the test
database from the root conftest.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from google.cloud import bigquery

from contracts.catalog import CUSTOMER
from devstack import processes, seeding
from devstack.config import StackConfig
from devstack.docker import docker_available
from devstack.warehouse import ensure_spatial_extension
from segment_runtime.auth import ALL_ACCESS, Access, Scope, issue_token
from segment_runtime.bigquery import make_client
from segment_runtime.settings import BigQuerySettings

CUSTOMERS = 3000
SEED = 11
TIME_ZONE = "Asia/Jakarta"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    cfg: StackConfig
    account_id: UUID
    customers: list[dict[str, Any]]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    service_env: dict[str, str] = field(default_factory=dict)
    page_port: int = 0  # where browser tests serve their page (a CORS origin of the API)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.cfg.api_port}"

    def headers(
        self, user_id: str = "e2e", permissions: dict[Scope, Access] | None = None
    ) -> dict[str, str]:
        token = issue_token(
            self.cfg.secrets["jwt_secret"],
            account_id=self.account_id,
            user_id=user_id,
            permissions=ALL_ACCESS if permissions is None else permissions,
        )
        return {"Authorization": f"Bearer {token}"}

    def token(self, user_id: str = "e2e", permissions: dict[Scope, Access] | None = None) -> str:
        return self.headers(user_id, permissions)["Authorization"].removeprefix("Bearer ")

    def bigquery(self) -> bigquery.Client:
        return make_client(
            BigQuerySettings.model_validate(
                {
                    "BIGQUERY_PROJECT": self.cfg.bigquery_project,
                    "BIGQUERY_ENDPOINT": self.cfg.bigquery_endpoint,
                }
            )
        )

    def start(self, proc: processes.Process) -> None:
        log = (self.logs / f"{proc.name}.log").open("ab")
        env = proc.full_env()
        if proc.name.replace("-", "_") in processes.SERVICES:
            env.update(self.service_env)
        self.procs[proc.name] = subprocess.Popen(
            proc.argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        for p in self.procs.values():
            processes.stop_group(p)

    def wait_healthy(self) -> None:
        _wait_http(f"{self.api}/health")
        _wait_http(f"http://127.0.0.1:{self.cfg.notifier_port}/health")
        for port in (self.cfg.compiler_port, self.cfg.job_monitor_port, self.cfg.scheduler_port):
            _wait_http(f"http://127.0.0.1:{port}/ready")

    def kill(self, name: str) -> None:
        """kill -9, no goodbye: the process (and what it spawned) just stops."""
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)

    def restart(self, name: str) -> None:
        """Start `name` again (after `kill`), as its supervisor would."""
        if name == "kafka":
            self.start(processes.broker(self.cfg))
            processes.wait_for_port(self.cfg.kafka_port)
            return
        (proc,) = [p for p in processes.platform(self.cfg) if p.name == name]
        self.start(proc)

    # --- the slow/faulty warehouse in front of the emulator (devstack.slow_warehouse) ---------

    @property
    def warehouse(self) -> str:
        return f"http://127.0.0.1:{self.cfg.slow_warehouse_port}"

    def set_fault(self, segment_id: str, **rule: Any) -> None:
        """How the segment's build jobs behave: duration_s, outcome (ok, fail, lose, hang)..."""
        response = httpx.put(
            f"{self.warehouse}/_faults/segments/{UUID(segment_id).hex}", json=rule, timeout=5
        )
        response.raise_for_status()

    def set_default_fault(self, **rule: Any) -> None:
        httpx.put(f"{self.warehouse}/_faults", json={"default": rule}, timeout=5).raise_for_status()

    def reset_faults(self) -> None:
        httpx.delete(f"{self.warehouse}/_faults", timeout=5).raise_for_status()

    def warehouse_jobs(self, segment_id: str | None = None) -> list[dict[str, Any]]:
        """Every build job the warehouse ran, with when it started and ended."""
        jobs: list[dict[str, Any]] = httpx.get(f"{self.warehouse}/_faults/jobs", timeout=5).json()
        if segment_id is not None:
            jobs = [j for j in jobs if j["segment"] == UUID(segment_id).hex]
        return jobs

    def dump_logs(self, lines: int = 40) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"----- {path.name} -----\n" + "\n".join(tail))
        return "\n".join(out)


def _wait_http(url: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")


@contextlib.contextmanager
def _containers(cfg: StackConfig) -> Iterator[dict[str, Any]]:
    """Broker and soketi from testcontainers (only when a Docker engine answers)."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.kafka import KafkaContainer

    with (
        KafkaContainer("confluentinc/cp-kafka:7.6.1") as kafka,
        DockerContainer("quay.io/soketi/soketi:1.6-16-debian")
        .with_env("SOKETI_DEFAULT_APP_ID", cfg.pusher_app_id)
        .with_env("SOKETI_DEFAULT_APP_KEY", cfg.pusher_key)
        .with_env("SOKETI_DEFAULT_APP_SECRET", cfg.secrets["pusher_secret"])
        .with_exposed_ports(6001) as soketi,
    ):
        yield {
            "kafka": kafka.get_bootstrap_server(),
            "pusher_port": int(soketi.get_exposed_port(6001)),
        }


@dataclass
class Emulator:
    port: int
    grpc_port: int
    project: str = "segment-test"

    def client(self) -> bigquery.Client:
        return make_client(
            BigQuerySettings.model_validate(
                {
                    "BIGQUERY_PROJECT": self.project,
                    "BIGQUERY_ENDPOINT": f"http://127.0.0.1:{self.port}",
                }
            )
        )


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One BigQuery emulator for the session (in memory)."""
    emu = Emulator(free_port(), free_port())
    cfg = StackConfig(
        state_dir=tmp_path_factory.mktemp("emulator"),
        bigquery_port=emu.port,
        bigquery_grpc_port=emu.grpc_port,
        bigquery_project=emu.project,
    )
    ensure_spatial_extension()
    proc = processes.emulator(cfg, persistent=False)
    log = (cfg.state_dir / "bigquery.log").open("wb")
    running = subprocess.Popen(
        proc.argv,
        env=proc.full_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        processes.wait_for_port(emu.port)
        yield emu
    finally:
        processes.stop_group(running)


@pytest.fixture(scope="session")
def stack_database_url(postgres_server: str) -> Iterator[str]:
    """The stack's own database: its services write all the time (outbox relays, job
    polling), which must never meet the other tests' TRUNCATEs."""
    from devstack.database import scratch_database

    with scratch_database(postgres_server, "segp_stack") as url:
        yield url


@contextlib.contextmanager
def launch_stack(
    database_url: str,
    state: Path,
    emulator: Emulator,
    *,
    customers: int = CUSTOMERS,
    service_env: dict[str, str] | None = None,
    use_docker: bool = False,
) -> Iterator[Stack]:
    """Broker, soketi, the slow warehouse and the five services, for one fresh account."""
    logs = state / "logs"
    logs.mkdir()
    ports = {
        name: free_port()
        for name in (
            "kafka_port",
            "pusher_port",
            "pusher_metrics_port",
            "pusher_cluster_port",
            "api_port",
            "notifier_port",
            "compiler_port",
            "job_monitor_port",
            "scheduler_port",
            "slow_warehouse_port",
            "page_port",
        )
    }
    # The browser tests serve their page here: the gateway allows it as a CORS origin.
    page_port = ports.pop("page_port")
    cfg = StackConfig(
        state_dir=state,
        database_url=database_url,
        redis_prefix=f"e2e{uuid4().hex[:8]}",
        bigquery_port=emulator.port,
        bigquery_grpc_port=emulator.grpc_port,
        bigquery_project=emulator.project,
        slow_warehouse=True,
        # Tests give jobs their durations and bytes rule by rule.
        slow_job_s=0.0,
        slow_job_jitter_s=0.0,
        slow_job_bytes=0,
        cors_origins=f"http://127.0.0.1:{page_port}",
        **ports,
    )
    account_id = uuid4()
    stack = Stack(cfg, account_id, [], logs, service_env=service_env or {})
    stack.page_port = page_port
    with contextlib.ExitStack() as exits:
        exits.callback(stack.stop)
        if use_docker:
            external = exits.enter_context(_containers(cfg))
            cfg = cfg.model_copy(
                update={
                    "kafka_port": int(external["kafka"].rsplit(":", 1)[1]),
                    "pusher_port": external["pusher_port"],
                }
            )
            stack.cfg = cfg
        else:
            stack.start(processes.broker(cfg))
            stack.start(processes.soketi(cfg))
            processes.wait_for_port(cfg.kafka_port)
            processes.wait_for_port(cfg.pusher_port)
        stack.start(processes.slow_warehouse(cfg))
        processes.wait_for_port(cfg.slow_warehouse_port)
        client = stack.bigquery()
        tables = seeding.seed_warehouse(client, account_id, customers, seed=SEED)
        stack.customers = tables[CUSTOMER.table]
        asyncio.run(seeding.ensure_account(database_url, account_id, "e2e", TIME_ZONE))
        for proc in processes.platform(cfg):
            stack.start(proc)
        try:
            stack.wait_healthy()
        except TimeoutError:
            pytest.fail("the platform did not start:\n" + stack.dump_logs())
        yield stack


@pytest.fixture(scope="session")
def stack(
    stack_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    emulator: Emulator,
) -> Iterator[Stack]:
    use_docker = docker_available() and not os.environ.get("SEGP_TEST_NO_DOCKER")
    state = tmp_path_factory.mktemp("stack")
    with launch_stack(
        stack_database_url, state, emulator, use_docker=use_docker, service_env=PROMPT_WAIT_NOTES
    ) as stack:
        yield stack
        if request.session.testsfailed:
            print("\n" + stack.dump_logs())  # noqa: T201 - the logs are what a failure needs


# Builds that wait say why after seconds, not the production minute (the notes are tested).
PROMPT_WAIT_NOTES = {
    "WAIT_WATCH_EVERY_S": "1",
    "WAIT_QUEUED_S": "3",
    "WAIT_SLOW_AT_LEAST_S": "3",
}


# The reconciler looks often and gives up on a message quickly on the fault stack, so lost
# work is re-driven within seconds rather than the production minute.
FAST_RECONCILER = {
    "RECONCILE_EVERY_S": "1",
    "RECONCILE_DISPATCH_S": "15",
    "RECONCILE_SILENT_S": "4",
    "RECONCILE_CHANGE_S": "4",
    "JOB_LONG_POLL_S": "1",
    "JOB_LEASE_MARGIN_S": "4",
}


@contextlib.contextmanager
def own_stack(
    postgres_server: str,
    tmp_path_factory: pytest.TempPathFactory,
    emulator: Emulator,
    name: str,
    customers: int,
    service_env: dict[str, str],
) -> Iterator[Stack]:
    """A stack of its own, on a scratch database: for tests that break it on purpose."""
    from devstack.database import scratch_database

    with (
        scratch_database(postgres_server, f"segp_{name}") as database_url,
        launch_stack(
            database_url,
            tmp_path_factory.mktemp(name),
            emulator,
            customers=customers,
            service_env=service_env,
        ) as stack,
    ):
        yield stack


@pytest.fixture(scope="module")
def fault_stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory, emulator: Emulator
) -> Iterator[Stack]:
    """For tests that kill its processes and restart its broker, re-driven fast."""
    with own_stack(
        postgres_server, tmp_path_factory, emulator, "faults", 500, FAST_RECONCILER
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def patient_stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory, emulator: Emulator
) -> Iterator[Stack]:
    """With the production reconciler deadlines (a broker restart must not wait for them)."""
    with own_stack(
        postgres_server, tmp_path_factory, emulator, "restart", 300, {"JOB_LONG_POLL_S": "1"}
    ) as stack:
        yield stack


@pytest.fixture
def expected_members(stack: Stack) -> Callable[[Callable[[dict[str, Any]], bool]], set[str]]:
    def select(predicate: Callable[[dict[str, Any]], bool]) -> set[str]:
        return {row[CUSTOMER.id_column] for row in stack.customers if predicate(row)}

    return select


@pytest.fixture(scope="module")
def warehouse(emulator: Emulator) -> Any:
    """An account on the emulator seeded with demo rows (`agreement.Warehouse`)."""
    from agreement import seeded

    return seeded(emulator.client())
