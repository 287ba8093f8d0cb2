"""exec (-i, -e, -w, -u, -d), attach and run -i, without a terminal, through both CLIs."""

from __future__ import annotations

import time
import uuid

import pytest

pytestmark = pytest.mark.root


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def sleeper(daemon):
    name = unique("sleeper")
    daemon.cli("run", "-d", "--name", name, "busybox", "sleep", "600")
    yield name
    daemon.cli("rm", "-f", name)


def test_exec_env_workdir_user(daemon, client, sleeper):
    out = daemon.client(
        client,
        "exec",
        "-e",
        "WHO=exec",
        "-w",
        "/home/app",
        "-u",
        "app",
        sleeper,
        "sh",
        "-c",
        "echo $WHO; pwd; id -u; id -g",
    )
    assert out.stdout.split() == ["exec", "/home/app", "1000", "1000"]
    group = daemon.client(client, "exec", "-u", "1000:50", sleeper, "id", "-g")
    assert group.stdout.strip() == "50"


def test_exec_exit_code_and_stderr(daemon, client, sleeper):
    result = daemon.client(client, "exec", sleeper, "sh", "-c", "echo oops >&2; exit 5", check=False)
    assert (result.returncode, result.stderr) == (5, "oops\n")
    missing = daemon.client(client, "exec", sleeper, "no-such-binary", check=False)
    assert missing.returncode == 126  # dockerd's exec: 126 (run's is 127), the reason on stdout
    assert "executable file not found" in missing.stdout


def test_exec_interactive_stdin(daemon, client, sleeper):
    out = daemon.client(client, "exec", "-i", sleeper, "sh", "-c", "tr a-z A-Z", input="piped text\n")
    assert out.stdout == "PIPED TEXT\n"


def test_exec_detached(daemon, client, sleeper):
    marker = f"/tmp/{unique('detached')}"
    daemon.client(client, "exec", "-d", sleeper, "sh", "-c", f"sleep 0.3; touch {marker}")
    deadline = time.monotonic() + 10
    while daemon.cli("exec", sleeper, "test", "-e", marker, check=False).returncode != 0:
        assert time.monotonic() < deadline, "the detached exec never ran"
        time.sleep(0.2)


def test_exec_in_a_stopped_container_fails(daemon, client):
    name = unique("stopped")
    daemon.cli("create", "--name", name, "busybox", "true")
    result = daemon.client(client, "exec", name, "true", check=False)
    assert result.returncode != 0 and "is not running" in result.stderr
    daemon.cli("rm", name)


def test_run_interactive_pipes_stdin(daemon, client):
    out = daemon.client(
        client, "run", "--rm", "-i", "busybox", "sh", "-c", "read a; read b; echo $b $a", input="one\ntwo\n"
    )
    assert out.stdout == "two one\n"


def test_attach_to_a_running_container(daemon, client):
    name = unique("attached")
    daemon.cli("run", "-d", "-i", "--name", name, "busybox", "sh", "-c", "read line; echo got $line; exit 4")
    time.sleep(0.3)
    result = daemon.client(client, "attach", name, input="hello\n", check=False)
    assert result.stdout == "got hello\n"
    assert result.returncode == 4
    daemon.cli("rm", name)


def test_start_attach_streams_output(daemon, client):
    name = unique("startattach")
    daemon.cli("create", "--name", name, "busybox", "sh", "-c", "echo from start; exit 2")
    result = daemon.client(client, "start", "-a", name, check=False)
    assert result.stdout == "from start\n" and result.returncode == 2
    daemon.cli("rm", name)


def test_sdk_container_flows(daemon):
    sdk = daemon.sdk()
    container = sdk.containers.run(
        "busybox", ["sh", "-c", "echo sdk; sleep 600"], detach=True, name=unique("sdk"), labels={"via": "sdk"}
    )
    try:
        deadline = time.monotonic() + 10
        while b"sdk" not in container.logs() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert container.logs() == b"sdk\n"
        code, output = container.exec_run(["sh", "-c", "echo $X"], environment={"X": "from-exec"})
        assert (code, output) == (0, b"from-exec\n")
        container.reload()
        assert container.status == "running" and container.labels == {"via": "sdk"}
        assert [c.id for c in sdk.containers.list(filters={"label": "via=sdk"})] == [container.id]
        container.stop(timeout=1)
        assert container.wait()["StatusCode"] == 137
    finally:
        container.remove(force=True)
    assert sdk.containers.run("busybox", ["echo", "once"], remove=True) == b"once\n"
    sdk.close()
