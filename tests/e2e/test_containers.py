"""Container verbs end to end, each through the dockyard CLI and the real docker CLI."""

from __future__ import annotations

import json
import time
import uuid

import pytest

pytestmark = pytest.mark.root


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_run_rm_prints_and_leaves_nothing(daemon, client):
    before = daemon.cli("ps", "-aq").stdout.split()
    out = daemon.client(client, "run", "--rm", "busybox", "echo", "hello")
    assert out.stdout == "hello\n"
    assert daemon.cli("ps", "-aq").stdout.split() == before


def test_create_start_wait_logs(daemon, client):
    name = unique("created")
    container_id = daemon.client(
        client, "create", "--name", name, "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"
    ).stdout.strip()
    assert len(container_id) == 64
    assert daemon.inspect(name)["State"]["Status"] == "created"
    daemon.client(client, "start", name)
    assert daemon.client(client, "wait", name).stdout.strip() == "3"
    logs = daemon.client(client, "logs", name)
    assert (logs.stdout, logs.stderr) == ("out\n", "err\n")
    daemon.client(client, "rm", name)


def test_ps_flags_filters_and_format(daemon, client):
    name, label = unique("listed"), unique("team")
    daemon.client(client, "run", "-d", "--name", name, "-l", f"team={label}", "busybox", "sleep", "300")
    gone = unique("gone")
    daemon.client(client, "run", "--name", gone, "-l", f"team={label}", "busybox", "true")
    try:
        running = daemon.client(client, "ps").stdout
        assert name in running and gone not in running
        assert running.splitlines()[0].split() == [
            "CONTAINER",
            "ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES",
        ]
        assert gone in daemon.client(client, "ps", "-a").stdout
        full_id = daemon.inspect(name)["Id"]
        assert full_id[:12] in daemon.client(client, "ps", "-q").stdout.split()
        assert full_id in daemon.client(client, "ps", "-q", "--no-trunc").stdout.split()
        by_label = daemon.client(
            client, "ps", "-a", "-f", f"label=team={label}", "--format", "{{.Names}}"
        ).stdout.split()
        assert sorted(by_label) == sorted([name, gone])
        exited = daemon.client(
            client, "ps", "-a", "-f", "status=exited", "-f", f"label=team={label}", "--format", "{{.Names}}"
        )
        assert exited.stdout.split() == [gone]
        by_name = daemon.client(
            client, "ps", "-f", f"name={name}", "--format", "{{.Names}}|{{.Image}}|{{.Command}}|{{.State}}"
        )
        assert by_name.stdout.strip() == f'{name}|busybox|"sleep 300"|running'
        as_json = json.loads(daemon.client(client, "ps", "-f", f"name={name}", "--format", "{{json .}}").stdout)
        assert as_json["Names"] == name and as_json["Labels"] == f"team={label}"
    finally:
        daemon.cli("rm", "-f", name, gone)


def test_stop_waits_for_the_timeout_then_kills(daemon, client):
    name = unique("stubborn")
    daemon.client(
        client, "run", "-d", "--name", name, "busybox", "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"
    )
    started = time.monotonic()
    daemon.client(client, "stop", "-t", "2", name)
    elapsed = time.monotonic() - started
    state = daemon.inspect(name)["State"]
    daemon.cli("rm", name)
    assert 2.0 <= elapsed < 8, elapsed
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)


def test_stop_with_timeout_zero_kills_at_once(daemon, client):
    """`stop -t 0` sends the stop signal and kills without waiting (it used to fail outright)."""
    name = unique("hasty")
    daemon.client(client, "run", "-d", "--name", name, "busybox", "sh", "-c", "trap '' TERM; sleep 300 & wait")
    started = time.monotonic()
    daemon.client(client, "stop", "-t", "0", name)
    elapsed = time.monotonic() - started
    state = daemon.inspect(name)["State"]
    daemon.cli("rm", name)
    assert elapsed < 3, elapsed
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)


def test_kill_returns_once_the_container_has_exited(daemon):
    """An inspect right after SIGKILL sees the exit, as with dockerd (through the SDK: no CLI start-up between)."""
    sdk = daemon.sdk()
    for _ in range(5):
        container = sdk.containers.run("busybox", ["sh", "-c", "trap '' TERM; sleep 300 & wait"], detach=True)
        try:
            container.kill()
            container.reload()
            state = container.attrs["State"]
            assert (state["Status"], state["Running"], state["ExitCode"]) == ("exited", False, 137)
        finally:
            container.remove(force=True)


def test_stop_of_a_process_that_exits_on_sigterm_is_quick(daemon, client):
    name = unique("polite")
    daemon.client(
        client, "run", "-d", "--name", name, "busybox", "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"
    )
    started = time.monotonic()
    daemon.client(client, "stop", name)
    assert time.monotonic() - started < 5
    assert daemon.inspect(name)["State"]["ExitCode"] == 0
    daemon.cli("rm", name)


def test_kill_with_a_signal_and_restart(daemon, client):
    name = unique("signalled")
    daemon.client(
        client, "run", "-d", "--name", name, "busybox", "sh", "-c", "trap 'exit 42' USR1; while :; do sleep 0.1; done"
    )
    time.sleep(0.3)
    daemon.client(client, "kill", "-s", "USR1", name)
    assert daemon.client(client, "wait", name).stdout.strip() == "42"
    first_start = daemon.inspect(name)["State"]["StartedAt"]
    daemon.client(client, "restart", "-t", "1", name)
    state = daemon.inspect(name)["State"]
    assert state["Running"] and state["StartedAt"] != first_start
    daemon.client(client, "kill", name)
    assert daemon.client(client, "wait", name).stdout.strip() == "137"
    daemon.cli("rm", name)


def test_rm_refuses_a_running_container_without_force(daemon, client):
    name = unique("busy")
    daemon.client(client, "run", "-d", "--name", name, "busybox", "sleep", "300")
    refused = daemon.client(client, "rm", name, check=False)
    assert refused.returncode == 1
    assert f'cannot remove container "/{name}": container is running' in refused.stderr.replace("\\", "")
    daemon.client(client, "rm", "-f", "-v", name)
    assert name not in daemon.cli("ps", "-a").stdout


def test_rename(daemon, client):
    old, new = unique("old"), unique("new")
    daemon.client(client, "create", "--name", old, "busybox", "true")
    daemon.client(client, "rename", old, new)
    assert daemon.inspect(new)["Name"] == "/" + new
    assert daemon.client(client, "inspect", old, check=False).returncode == 1
    daemon.cli("rm", new)


@pytest.mark.parametrize(
    "command, code",
    [
        (["sh", "-c", "exit 3"], 3),
        (["no-such-command"], 127),
        (["/no/such/path"], 127),
        (["/etc/passwd"], 126),
    ],
)
def test_exit_codes(daemon, client, command, code):
    result = daemon.client(client, "run", "--rm", "busybox", *command, check=False)
    assert result.returncode == code, result.stderr


@pytest.mark.parametrize(
    "content, reason",
    [(b"hello", "exec format error"), (b"#!/no/such/interpreter\n", "no such file or directory")],
)
def test_a_program_execve_refuses_starts_then_exits_1_with_the_reason_on_stderr(
    daemon, client, tmp_path, content, reason
):
    """As under dockerd with runc (checked side by side): `run` and `exec` both start it."""
    (tmp_path / "bad").write_bytes(content)
    (tmp_path / "bad").chmod(0o755)
    name = unique("bad")
    result = daemon.client(client, "run", "--name", name, "-v", f"{tmp_path}:/x", "busybox", "/x/bad", check=False)
    assert (result.returncode, result.stderr) == (1, f"exec /x/bad: {reason}\n")
    state = daemon.inspect(name)["State"]
    assert (state["Status"], state["ExitCode"], state["Error"]) == ("exited", 1, "")
    daemon.cli("rm", name)
    daemon.client(client, "run", "-d", "--name", name, "-v", f"{tmp_path}:/x", "busybox", "sleep", "300")
    result = daemon.client(client, "exec", name, "/x/bad", check=False)
    assert (result.returncode, result.stderr) == (1, f"exec /x/bad: {reason}\n")
    daemon.cli("rm", "-f", name)


def test_engine_errors_exit_125(daemon, client):
    assert daemon.client(client, "run", "--rm", "--no-such-flag", "busybox", "true", check=False).returncode == 125
    unknown = daemon.client(client, "run", "--rm", "--pull", "never", "no-such-image-xyz", "true", check=False)
    assert unknown.returncode == 125
    assert "no-such-image-xyz" in unknown.stderr


def test_container_prune(daemon, client):
    label = unique("prune")
    daemon.client(client, "run", "-l", f"p={label}", "busybox", "true")
    keep = unique("keep")
    daemon.client(client, "run", "-d", "--name", keep, "-l", f"p={label}", "busybox", "sleep", "300")
    daemon.client(client, "container", "prune", "-f", "--filter", f"label=p={label}")
    left = daemon.cli("ps", "-a", "-f", f"label=p={label}", "--format", "{{.Names}}").stdout.split()
    assert left == [keep]
    daemon.cli("rm", "-f", keep)


def test_inspect_has_dockers_shape(daemon, client):
    name = unique("shape")
    daemon.client(client, "run", "-d", "--name", name, "-l", "a=b", "busybox", "sleep", "300")
    try:
        doc = json.loads(daemon.client(client, "inspect", name).stdout)[0]
        for key in (
            "Id",
            "Created",
            "Path",
            "Args",
            "State",
            "Image",
            "ResolvConfPath",
            "HostnamePath",
            "HostsPath",
            "LogPath",
            "Name",
            "RestartCount",
            "Driver",
            "Platform",
            "HostConfig",
            "GraphDriver",
            "Mounts",
            "Config",
            "NetworkSettings",
        ):
            assert key in doc, key
        assert doc["Path"] == "sleep" and doc["Args"] == ["300"]
        assert doc["State"]["Running"] and doc["State"]["Pid"] > 0
        assert doc["Config"]["Labels"] == {"a": "b"} and doc["Config"]["Image"] == "busybox"
        assert doc["Image"].startswith("sha256:")
        formatted = daemon.client(client, "inspect", "-f", "{{.State.Status}} {{.Name}} {{.Config.Hostname}}", name)
        assert formatted.stdout.split() == ["running", "/" + name, doc["Id"][:12]]
    finally:
        daemon.cli("rm", "-f", name)
