"""The compose file starts: parsed here as `docker compose config` would read it (no
Docker needed), every service is healthy only when its probe says so, nothing starts
before what it needs, ports are on loopback only, and every variable it sets is one a
service reads."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.service.settings import Settings as CompilerSettings
from devstack.config import StackConfig
from job_monitor.settings import Settings as JobMonitorSettings
from notifier.settings import Settings as NotifierSettings
from scheduler.settings import Settings as SchedulerSettings
from segment_api.settings import Settings as ApiSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PLATFORM = {
    "segment-api": (ApiSettings, "segment_api"),
    "compiler": (CompilerSettings, "compiler"),
    "job-monitor": (JobMonitorSettings, "job_monitor"),
    "scheduler": (SchedulerSettings, "scheduler"),
    "notifier": (NotifierSettings, "notifier"),
}
INFRASTRUCTURE = ("kafka", "postgres", "redis", "soketi", "bigquery")


def _default_port(settings: type[Any]) -> int:
    return int(settings.model_fields["port"].default)


def test_every_long_running_service_has_a_healthcheck():
    for name in (*INFRASTRUCTURE, *PLATFORM):
        check = SERVICES[name].get("healthcheck", {})
        assert check.get("test"), name


@pytest.mark.parametrize("name", list(PLATFORM))
def test_a_platform_service_waits_for_healthy_infrastructure_and_migrations(name):
    needs = SERVICES[name]["depends_on"]
    for dependency in INFRASTRUCTURE:
        assert needs[dependency]["condition"] == "service_healthy", (name, dependency)
    assert needs["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", list(PLATFORM))
def test_a_platform_service_probe_asks_its_own_port_and_module(name):
    settings, module = PLATFORM[name]
    probe = " ".join(SERVICES[name]["healthcheck"]["test"])
    port = int(re.search(r"127\.0\.0\.1:(\d+)/", probe).group(1))
    assert port == _default_port(settings)
    command = SERVICES[name]["command"]
    assert command[:2] == ["python", "-m"] and command[2] == module
    assert importlib.util.find_spec(module) is not None


def test_migrations_and_the_demo_seed_come_first():
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    seed = SERVICES["seed"]
    assert seed["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert seed["command"][:2] == ["segctl", "seed"] and "--emulator" in seed["command"]
    api_needs = SERVICES["segment-api"]["depends_on"]
    assert api_needs["seed"]["condition"] == "service_completed_successfully"


def test_ports_are_published_on_loopback_only_and_include_broker_database_emulator():
    published = {}
    for name, service in SERVICES.items():
        for mapping in service.get("ports", []):
            assert mapping.startswith("127.0.0.1:"), (name, mapping)
            published[name] = mapping
    assert {"kafka", "postgres", "bigquery", "segment-api", "notifier", "soketi"} <= set(published)


def test_every_variable_set_is_one_a_service_reads():
    known = {
        field.alias
        for settings, _ in PLATFORM.values()
        for field in settings.model_fields.values()
        if field.alias
    } | {f"SEGP_{name.upper()}" for name in StackConfig.model_fields}
    for name, service in SERVICES.items():
        if name not in (*PLATFORM, "migrate", "seed"):
            continue
        unknown = set(service.get("environment", {})) - known
        assert unknown == set(), (name, unknown)
