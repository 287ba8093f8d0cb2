"""Output that scripts read: version, info, events, table and Go-template formats, host selection."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest

from tests.e2e.daemon import DOCKYARD

pytestmark = pytest.mark.root


def test_version_and_info(daemon, client):
    server = json.loads(daemon.client(client, "version", "--format", "{{json .Server}}").stdout)
    assert server["ApiVersion"] == "1.44" and server["Os"] == "linux"
    info = json.loads(daemon.client(client, "info", "--format", "{{json .}}").stdout)
    assert info["Images"] >= 1 and info["Driver"] == "overlay2"


def test_table_and_json_formats(daemon, client):
    name = f"fmt-{uuid.uuid4().hex[:6]}"
    daemon.cli("run", "-d", "--name", name, "busybox", "sleep", "300")
    table = daemon.client(
        client, "ps", "-f", f"name={name}", "--format", "table {{.ID}}\t{{.Names}}"
    ).stdout.splitlines()
    assert table[0].split() == ["CONTAINER", "ID", "NAMES"] and table[1].split()[1] == name
    image = json.loads(daemon.client(client, "images", "--format", "{{json .}}", "busybox").stdout)
    assert (image["Repository"], image["Tag"]) == ("busybox", "latest")
    labels = daemon.client(client, "inspect", "--format", "{{json .Config.Cmd}}", name).stdout
    assert json.loads(labels) == ["sleep", "300"]
    daemon.cli("rm", "-f", name)


def test_events_with_filters(daemon, client):
    since = str(int(time.time()) - 1)
    name = f"ev-{uuid.uuid4().hex[:6]}"
    daemon.cli("run", "--name", name, "busybox", "true")
    daemon.cli("rm", name)
    until = str(int(time.time()) + 1)
    out = daemon.client(
        client, "events", "--since", since, "--until", until, "-f", f"container={name}", "--format", "{{.Action}}"
    ).stdout.split()
    assert out[:1] == ["create"] and "start" in out and "die" in out and out[-1] == "destroy"


def test_dockyard_host_variable_and_no_daemon(daemon, tmp_path):
    env = {**os.environ, "DOCKYARD_HOST": daemon.host}
    assert subprocess.run([DOCKYARD, "ps", "-q"], env=env, capture_output=True).returncode == 0
    env["DOCKYARD_HOST"] = f"unix://{tmp_path}/nothing.sock"
    missing = subprocess.run([DOCKYARD, "ps"], env=env, capture_output=True, text=True)
    assert (
        missing.returncode == 1 and "Is the daemon running?" in missing.stderr and "dockyard daemon" in missing.stderr
    )
