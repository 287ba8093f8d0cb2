"""The real docker SDK and the real docker CLI against a real ApiServer on a temp socket.

The engine behind the server is the real one over the in-memory runtime and snapshotter, so
these tests pin the wire contract the clients rely on: version negotiation, status codes and
messages, JSON shapes, and the hijack.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import docker
import pytest
from docker.utils.socket import frames_iter

from dockyard.testing import Program

DOCKER_CLI = shutil.which("docker") or "/usr/local/bin/docker"


@pytest.fixture
def client(server):
    sdk = docker.DockerClient(base_url=f"unix://{server.socket_path}", version="auto", timeout=10)
    yield sdk
    sdk.close()


def run_cli(server, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DOCKER_HOST": f"unix://{server.socket_path}",
        "DOCKER_CONFIG": str(server.socket_path.parent / "docker-config"),
    }
    return subprocess.run([DOCKER_CLI, *args], env=env, input=input, capture_output=True, timeout=30)


def test_sdk_ping_and_version(client):
    assert client.ping() is True
    assert client.api.api_version == "1.44"
    version = client.version()
    assert (version["ApiVersion"], version["MinAPIVersion"]) == ("1.44", "1.24")


def test_sdk_lists_and_inspects_containers(client, engine):
    engine.run("sleep", "1000", name="web")
    engine.run("sleep", "1000", name="old")
    engine.containers.stop("old", 0, None)
    assert [c.name for c in client.containers.list()] == ["web"]
    assert sorted(c.name for c in client.containers.list(all=True)) == ["old", "web"]
    assert client.containers.get("web").status == "running"


def test_sdk_maps_errors_to_its_exceptions(client, engine):
    with pytest.raises(docker.errors.NotFound, match="No such container: ghost"):
        client.containers.get("ghost")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("ghost:latest")
    client.api.create_container("busybox", name="web")
    with pytest.raises(docker.errors.APIError) as err:
        client.api.create_container("busybox", name="web")
    assert err.value.status_code == 409 and 'The container name "/web" is already in use' in err.value.explanation


def test_sdk_reads_multiplexed_logs(client, engine):
    engine.run("sleep", "1000", name="web")
    engine.runtime.output(engine.state_dir("web"), b"out line\n", 1)
    engine.runtime.output(engine.state_dir("web"), b"err line\n", 2)
    container = client.containers.get("web")
    assert container.logs() == b"out line\nerr line\n"
    assert container.logs(stdout=True, stderr=False) == b"out line\n"


def test_sdk_hijacked_attach_socket_before_start(client, engine):
    config = {"Image": "busybox", "Cmd": ["cat"], "OpenStdin": True, "StdinOnce": True, "AttachStdin": True}
    engine.containers.create("web", config, {}, None)
    sock = client.api.attach_socket("web", params={"stdin": 1, "stdout": 1, "stream": 1})
    client.api.start("web")
    raw = sock._sock if hasattr(sock, "_sock") else sock
    raw.sendall(b"ping over the hijack")
    raw.shutdown(socket.SHUT_WR)
    frames = list(frames_iter(sock, tty=False))
    sock.close()
    assert [stream for stream, _ in frames] == [1] * len(frames)
    assert b"".join(data for _, data in frames) == b"ping over the hijack"
    assert client.api.wait("web", timeout=10)["StatusCode"] == 0  # cat ended with its stdin


def test_sdk_exec_start_with_socket(client, engine):
    engine.run("sleep", "1000", name="web")
    exec_id = client.api.exec_create("web", ["cat"], stdin=True)["Id"]
    sock = client.api.exec_start(exec_id, socket=True)
    raw = sock._sock if hasattr(sock, "_sock") else sock
    raw.sendall(b"to cat")
    raw.shutdown(socket.SHUT_WR)
    assert b"".join(data for _, data in frames_iter(sock, tty=False)) == b"to cat"
    sock.close()
    assert client.api.exec_inspect(exec_id)["ExitCode"] == 0
    with pytest.raises(docker.errors.NotFound, match="No such exec instance"):
        client.api.exec_start("nope")


def test_cli_version_negotiates_down_to_1_44(server):
    result = run_cli(server, "version")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "API version:       1.44 (downgraded from" in out
    assert "Server: dockyard" in out


def test_cli_ps(server, engine):
    container_id = engine.run("sleep", "1000", name="web")
    result = run_cli(server, "ps")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.decode().splitlines()
    assert header.split()[:2] == ["CONTAINER", "ID"]
    assert row.split()[0] == container_id[:12] and row.split()[-1] == "web"


def test_cli_inspect_missing_is_no_such_object(server):
    result = run_cli(server, "inspect", "x")
    assert result.returncode == 1
    assert b"No such object: x" in result.stderr


def test_cli_run_attaches_before_start_and_streams_stdin(server, engine):
    """create -> hijacked attach -> wait -> start; stdin EOF half-closes; the exit code is wait's."""
    result = run_cli(server, "run", "-i", "--name", "job", "busybox", "cat", input=b"through the hijack\n")
    assert result.stdout == b"through the hijack\n", result.stderr
    assert result.returncode == 0
    assert engine.containers.inspect("job")["State"]["Status"] == "exited"


def test_cli_run_reports_the_exit_code(server, engine):
    assert run_cli(server, "run", "busybox", "false").returncode == 1


def test_sdk_run_reports_the_exit_code_and_stderr(client, engine):
    engine.runtime.programs["false"] = lambda args: Program(exit_code=3, stderr=b"it broke\n")
    with pytest.raises(docker.errors.ContainerError) as err:
        client.containers.run("busybox", "false", name="job")
    assert err.value.exit_status == 3
    assert err.value.stderr == b"it broke\n"  # from the json-file log, as the SDK fetched it


def test_sdk_streams_events(client, engine):
    engine.run("true", name="job")
    events = list(client.events(decode=True, since=0, until=int(time.time()) + 1, filters={"type": "container"}))
    assert [e["Action"] for e in events][:2] == ["create", "start"]


def test_sdk_default_version_is_served_without_negotiation(server):
    sdk = docker.DockerClient(base_url=f"unix://{server.socket_path}", timeout=10)
    try:
        assert sdk.api.api_version == "1.44"
        assert sdk.version()["ApiVersion"] == "1.44"
    finally:
        sdk.close()
