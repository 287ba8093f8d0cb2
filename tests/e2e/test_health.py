"""Health checks on a real daemon: the probe runs as an exec inside the container; State.Health,
health_status events, ps's `(healthy)` and the health filter, through both CLIs."""

from __future__ import annotations

import time

import pytest

from tests.polling import eventually

pytestmark = pytest.mark.root


def _status(daemon, name: str) -> str:
    return daemon.docker("inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip()


def test_health_follows_the_probe_inside_the_container(daemon, client):
    name = f"probed-{client}"
    since = str(int(time.time()))
    daemon.client(
        client,
        "run",
        "-d",
        "--name",
        name,
        "--health-cmd",
        "test -f /tmp/ok && echo ready",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "--health-timeout",
        "2s",
        "busybox",
        "sleep",
        "600",
    )
    try:
        eventually(lambda: _status(daemon, name) == "unhealthy", timeout=15, interval=0.1)
        assert daemon.client(client, "ps", "--filter", "health=unhealthy", "--format", "{{.Names}}").stdout.split() == [
            name
        ]
        daemon.cli("exec", name, "touch", "/tmp/ok")
        eventually(lambda: _status(daemon, name) == "healthy", timeout=15, interval=0.1)
        log = daemon.inspect(name)["State"]["Health"]["Log"]
        assert (log[-1]["ExitCode"], log[-1]["Output"]) == (0, "ready\n")
        assert (
            daemon.client(client, "ps", "--format", "{{.Status}}", "--filter", f"name={name}")
            .stdout.strip()
            .endswith("(healthy)")
        )
        events = daemon.cli(
            "events",
            "--since",
            since,
            "--until",
            str(int(time.time()) + 1),
            "--filter",
            f"container={name}",
            "--filter",
            "event=health_status",
            "--format",
            "{{.Action}}",
        ).stdout.splitlines()
        assert events == ["health_status: unhealthy", "health_status: healthy"]
    finally:
        daemon.cli("rm", "-f", name)
