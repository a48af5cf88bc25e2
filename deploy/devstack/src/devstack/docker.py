"""Whether a Docker engine answers here (tests then prefer testcontainers)."""

from __future__ import annotations

import shutil
import subprocess


def docker_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        probe = subprocess.run(  # noqa: S603 - a fixed command
            [docker, "info"],
            capture_output=True,
            check=False,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0
