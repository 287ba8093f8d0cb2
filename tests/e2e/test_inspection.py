"""top, stats, diff, pause/unpause, commit and system df end to end, through both CLIs."""

from __future__ import annotations

import json
import time
import uuid

import pytest

pytestmark = pytest.mark.root


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def worker(daemon):
    name = unique("worker")
    daemon.cli("run", "-d", "--name", name, "busybox", "sh", "-c", "sleep 600 & while :; do sleep 1; done")
    yield name
    daemon.cli("rm", "-f", name)


def test_top_lists_the_containers_processes(daemon, client, worker):
    lines = daemon.client(client, "top", worker).stdout.splitlines()
    assert lines[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    commands = [line.split(None, 7)[7] for line in lines[1:]]
    assert any(c.startswith("sh -c sleep 600") for c in commands) and "sleep 600" in commands
    init = daemon.inspect(worker)["State"]["Pid"]
    assert str(init) in [line.split()[1] for line in lines[1:]]
    custom = daemon.client(client, "top", worker, "-o", "pid,comm").stdout.splitlines()
    assert custom[0].split() == ["PID", "COMMAND"] and any(line.split()[1] == "sleep" for line in custom[1:])


def test_stats_one_shot(daemon, client, worker):
    out = daemon.client(client, "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.MemUsage}}", worker).stdout
    name, pids, usage = out.split(" ", 2)
    assert name == worker and int(pids) >= 2 and "/" in usage
    stopped = unique("stopped")
    daemon.cli("create", "--name", stopped, "busybox", "true")
    assert daemon.client(client, "stats", "--no-stream", "--format", "{{.PIDs}}", stopped).stdout.strip() == "0"
    daemon.cli("rm", stopped)


def test_stats_stream_through_the_sdk(daemon, worker):
    sdk = daemon.sdk()
    stream = sdk.containers.get(worker).stats(decode=True, stream=True)
    first, second = next(stream), next(stream)
    stream.close() if hasattr(stream, "close") else None
    assert second["precpu_stats"]["cpu_usage"]["total_usage"] == first["cpu_stats"]["cpu_usage"]["total_usage"]
    assert second["cpu_stats"]["system_cpu_usage"] > first["cpu_stats"]["system_cpu_usage"]
    assert second["memory_stats"]["usage"] > 0 and second["pids_stats"]["current"] >= 2
    assert second["name"] == "/" + worker
    sdk.close()


def test_diff_shows_added_changed_deleted(daemon, client, worker):
    daemon.cli("exec", worker, "sh", "-c", "echo x > /tmp/added; rm /etc/group; echo more >> /etc/passwd")
    lines = daemon.client(client, "diff", worker).stdout.splitlines()
    assert lines == ["C /etc", "D /etc/group", "C /etc/passwd", "C /tmp", "A /tmp/added"]


def test_pause_and_unpause(daemon, client, worker):
    daemon.client(client, "pause", worker)
    try:
        assert daemon.inspect(worker)["State"]["Status"] == "paused"
        assert "(Paused)" in daemon.client(client, "ps", "-f", f"name={worker}").stdout
        again = daemon.client(client, "pause", worker, check=False)
        assert again.returncode == 1 and "is already paused" in again.stderr
        refused = daemon.client(client, "exec", worker, "true", check=False)
        assert refused.returncode != 0 and "paused" in refused.stderr
    finally:
        daemon.client(client, "unpause", worker)
    assert daemon.inspect(worker)["State"]["Status"] == "running"
    assert daemon.cli("exec", worker, "echo", "thawed").stdout == "thawed\n"
    not_paused = daemon.client(client, "unpause", worker, check=False)
    assert not_paused.returncode == 1 and "is not paused" in not_paused.stderr


def test_stop_and_kill_a_paused_container(daemon, client, worker):
    daemon.cli("pause", worker)
    started = time.monotonic()
    daemon.client(client, "stop", "-t", "1", worker)
    assert time.monotonic() - started < 8
    assert daemon.inspect(worker)["State"]["Status"] == "exited"


def test_commit_makes_an_image_that_runs(daemon, client, worker):
    repo = unique("committed")
    daemon.cli("exec", worker, "sh", "-c", "echo saved > /root/state; rm /etc/group")
    image_id = daemon.client(
        client, "commit", "-c", 'CMD ["cat", "/root/state"]', "-m", "a message", "-a", "tester", worker, f"{repo}:v1"
    ).stdout.strip()
    assert image_id.startswith("sha256:")
    assert daemon.inspect(worker)["State"]["Status"] == "running"  # paused only for the while
    assert daemon.client(client, "run", "--rm", f"{repo}:v1").stdout == "saved\n"
    assert daemon.cli("run", "--rm", f"{repo}:v1", "test", "-e", "/etc/group", check=False).returncode == 1
    doc = json.loads(daemon.client(client, "image", "inspect", f"{repo}:v1").stdout)[0]
    assert doc["Author"] == "tester" and doc["Comment"] == "a message" and len(doc["RootFS"]["Layers"]) == 2
    history = daemon.client(client, "history", "--format", "{{.Comment}}", f"{repo}:v1").stdout.splitlines()
    assert history == ["a message", "Imported from -"]
    daemon.cli("rmi", f"{repo}:v1")


def test_system_df(daemon, client, worker):
    out = daemon.client(client, "system", "df").stdout.splitlines()
    assert out[0].split()[:2] == ["TYPE", "TOTAL"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert int(rows["Images"][1]) >= 1 and int(rows["Containers"][1]) >= 1 and int(rows["Containers"][2]) >= 1
    verbose = daemon.docker("system", "df", "-v", "--format", "{{json .}}").stdout
    assert worker in verbose
