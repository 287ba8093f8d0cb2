"""The real docker SDK and the real docker CLI against a real ApiServer on a temp socket.

The engine behind the server is the in-memory stand-in of api_fakes.py (the real engine is
written at the same time as this package), so these tests pin the wire contract the clients
rely on: version negotiation, status codes and messages, JSON shapes, and the hijack.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import docker
import pytest
from docker.utils.socket import frames_iter

from .api_fakes import container_id

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
    engine.containers.states.update(web="running", old="exited")
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
    assert err.value.status_code == 409 and "is already in use" in err.value.explanation


def test_sdk_reads_multiplexed_logs(client, engine):
    engine.containers.states["web"] = "running"
    container = client.containers.get("web")
    assert container.logs() == b"out line\nerr line\n"
    assert container.logs(stdout=True, stderr=False) == b"out line\nerr line\n"  # the fake ignores the flags


def test_sdk_hijacked_attach_socket(client, engine):
    engine.containers.states["web"] = "created"
    sock = client.api.attach_socket("web", params={"stdin": 1, "stdout": 1, "stream": 1})
    raw = sock._sock if hasattr(sock, "_sock") else sock
    raw.sendall(b"ping over the hijack")
    raw.shutdown(socket.SHUT_WR)
    frames = list(frames_iter(sock, tty=False))
    sock.close()
    assert [stream for stream, _ in frames] == [1] * len(frames)
    # the greeting races the SDK's switch to the raw socket (urllib3 may buffer it with the
    # 101 headers under load); what must arrive is the echo of what went in over the hijack
    assert b"".join(data for _, data in frames) in (b"attached\nping over the hijack", b"ping over the hijack")
    assert engine.containers.streams[-1].stdin_closed.is_set()


def test_sdk_exec_start_with_socket(client, engine):
    engine.containers.states["web"] = "running"
    exec_id = client.api.exec_create("web", ["cat"], stdin=True)["Id"]
    sock = client.api.exec_start(exec_id, socket=True)
    raw = sock._sock if hasattr(sock, "_sock") else sock
    raw.sendall(b"to cat")
    raw.shutdown(socket.SHUT_WR)
    assert b"".join(data for _, data in frames_iter(sock, tty=False)) == b"to cat"
    sock.close()
    with pytest.raises(docker.errors.NotFound, match="No such exec instance"):
        client.api.exec_start("nope")


def test_cli_version_negotiates_down_to_1_44(server):
    result = run_cli(server, "version")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "API version:       1.44 (downgraded from" in out
    assert "Server: dockyard" in out


def test_cli_ps(server, engine):
    engine.containers.states["web"] = "running"
    result = run_cli(server, "ps")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.decode().splitlines()
    assert header.split()[:2] == ["CONTAINER", "ID"]
    assert row.split()[0] == container_id("web")[:12] and row.split()[-1] == "web"


def test_cli_inspect_missing_is_no_such_object(server):
    result = run_cli(server, "inspect", "x")
    assert result.returncode == 1
    assert b"No such object: x" in result.stderr


def test_cli_run_attaches_before_start_and_streams_stdin(server, engine):
    """create -> hijacked attach -> wait -> start; stdin EOF half-closes; the exit code is wait's."""
    result = run_cli(server, "run", "-i", "busybox", "cat", input=b"through the hijack\n")
    assert result.stdout == b"attached\nthrough the hijack\n", result.stderr
    assert result.returncode == 3
    assert engine.containers.states["auto"] == "running"
    assert engine.containers.calls[0][0] == "create"


def test_cli_network_and_volume_commands(server, engine):
    assert run_cli(server, "network", "create", "backend").returncode == 0
    listing = run_cli(server, "network", "ls").stdout.decode()
    assert "backend" in listing and "bridge" in listing
    engine.containers.states["web"] = "running"
    assert run_cli(server, "network", "connect", "--alias", "db", "backend", "web").returncode == 0
    assert engine.networks.connected[-1][:2] == ("backend", "web")
    assert engine.networks.connected[-1][2]["Aliases"] == ["db"]
    assert run_cli(server, "volume", "create", "data").stdout == b"data\n"
    assert run_cli(server, "volume", "ls", "-q").stdout == b"data\n"
    assert run_cli(server, "volume", "rm", "data").returncode == 0
    missing = run_cli(server, "volume", "inspect", "data")
    assert missing.returncode == 1 and b"no such volume" in missing.stderr


def test_sdk_volumes_and_networks(client, engine):
    client.volumes.create("cache")
    assert [v.name for v in client.volumes.list()] == ["cache"]
    with pytest.raises(docker.errors.NotFound, match="network ghost not found"):
        client.networks.get("ghost")


def test_sdk_run_reports_the_exit_code_and_stderr(client, engine):
    with pytest.raises(docker.errors.ContainerError) as err:
        client.containers.run("busybox", "false", name="job")
    assert err.value.exit_status == 3
    assert err.value.stderr == b"out line\nerr line\n"  # the fake's log, as the SDK fetched it
    assert engine.containers.states["job"] == "running"


def test_sdk_streams_events_and_pull_progress(client):
    events = list(client.events(decode=True, until=1))
    assert events[0]["Action"] == "start"
    progress = list(client.api.pull("breaks", tag="1", stream=True, decode=True))
    assert progress[-1]["error"] == "layer digest mismatch"


def test_sdk_default_version_is_served_without_negotiation(server):
    sdk = docker.DockerClient(base_url=f"unix://{server.socket_path}", timeout=10)
    try:
        assert sdk.api.api_version == "1.44"
        assert sdk.version()["ApiVersion"] == "1.44"
    finally:
        sdk.close()
