"""`logs` end to end: --tail, -t, --since, --until, -f, and bounded json-file rotation."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import time
import uuid
from datetime import UTC, datetime

import pytest

from tests.e2e.daemon import DOCKER, DOCKYARD

pytestmark = pytest.mark.root


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def numbered(daemon):
    """A finished container that printed 1..5 on stdout, a second apart around line 3."""
    name = unique("numbers")
    daemon.cli("run", "--name", name, "busybox", "sh", "-c", "echo 1; echo 2; sleep 1.5; echo 3; echo 4; echo 5 >&2")
    yield name
    daemon.cli("rm", name)


def test_logs_tail_and_streams(daemon, client, numbered):
    result = daemon.client(client, "logs", numbered)
    assert (result.stdout, result.stderr) == ("1\n2\n3\n4\n", "5\n")
    assert daemon.client(client, "logs", "--tail", "2", numbered).stdout == "4\n"
    assert daemon.client(client, "logs", "--tail", "0", numbered).stdout == ""


def test_logs_timestamps_since_until(daemon, client, numbered):
    stamped = daemon.client(client, "logs", "-t", numbered).stdout.splitlines()
    times = [line.split(" ", 1)[0] for line in stamped]
    assert [line.split(" ", 1)[1] for line in stamped] == ["1", "2", "3", "4"]
    assert all(t.endswith("Z") and "T" in t for t in times)
    third = times[2][:19] + "Z"  # whole seconds, before line 3 and after lines 1-2 (1.5 s apart)
    cut = datetime.strptime(third, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    first = datetime.strptime(times[0][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    if int(cut) == int(first):
        pytest.skip("lines fell in the same second")
    assert daemon.client(client, "logs", "--since", str(int(cut)), numbered).stdout == "3\n4\n"
    assert daemon.client(client, "logs", "--until", str(int(cut)), numbered).stdout == "1\n2\n"


def test_logs_follow_streams_until_the_container_exits(daemon, client):
    name = unique("follow")
    daemon.cli("run", "-d", "--name", name, "busybox", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.5; done")
    argv = [DOCKYARD if client == "dockyard" else DOCKER, "-H", daemon.host, "logs", "-f", name]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first == "line1\n"
    rest = proc.stdout.read()
    proc.wait(timeout=20)
    assert rest == "line2\nline3\n" and proc.returncode == 0
    assert time.monotonic() - started >= 0.9  # it followed, rather than printed and quit
    daemon.cli("rm", name)


def test_log_rotation_is_bounded(daemon, client):
    name = unique("chatty")
    daemon.client(
        client,
        "run",
        "--name",
        name,
        "--log-opt",
        "max-size=20k",
        "--log-opt",
        "max-file=3",
        "busybox",
        "sh",
        "-c",
        "i=0; while [ $i -lt 3000 ]; do echo line-$i-padding-padding-padding; i=$((i+1)); done",
    )
    log_path = daemon.inspect(name)["LogPath"]
    files = glob.glob(log_path + "*")
    assert 1 < len(files) <= 3, files
    assert all(os.path.getsize(f) <= 20 * 1024 + 200 for f in files)
    with open(log_path) as f:
        entry = json.loads(f.readline())
    assert set(entry) == {"log", "stream", "time"}
    tail = daemon.client(client, "logs", "--tail", "1", name).stdout
    assert tail == "line-2999-padding-padding-padding\n"
    daemon.cli("rm", name)


def test_default_rotation_is_configured(daemon):
    name = unique("defaults")
    daemon.cli("create", "--name", name, "busybox", "true")
    config = daemon.inspect(name)["HostConfig"]["LogConfig"]
    assert config["Type"] == "json-file"
    daemon.cli("rm", name)
