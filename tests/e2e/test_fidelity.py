"""Issue 10's symptoms, each through the docker SDK for Python as a user meets it."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import time

import docker
import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def sdk(daemon):
    client = daemon.sdk()
    made = []
    client.made = made
    yield client
    for container in made:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
    client.close()


def run(sdk, *command, **options):
    options.setdefault("network_mode", "none")
    container = sdk.containers.run("busybox", list(command), detach=True, **options)
    sdk.made.append(container)
    return container


def test_exec_with_tty_streams_raw_output_without_losing_bytes(sdk):
    container = run(sdk, "sleep", "100")
    result = container.exec_run(["sh", "-c", "echo hello; echo world"], tty=True, stream=True)
    assert b"".join(result.output) == b"hello\r\nworld\r\n"
    demuxed = container.exec_run(["sh", "-c", "echo out; echo err >&2"], tty=True, stream=True, demux=True)
    assert b"".join(out for out, _ in demuxed.output if out) == b"out\r\nerr\r\n"
    plain = container.exec_run(["sh", "-c", "echo out; echo err >&2"], stream=True, demux=True)
    parts = list(plain.output)
    assert b"".join(o for o, _ in parts if o) == b"out\n" and b"".join(e for _, e in parts if e) == b"err\n"


def test_exec_of_a_missing_command_exits_126(sdk):
    container = run(sdk, "sleep", "100")
    result = container.exec_run(["/no/such/command"])
    assert result.exit_code == 126
    assert b"no such file or directory" in result.output


def test_attach_with_logs_and_no_stream_replays_the_output(sdk):
    container = run(sdk, "sh", "-c", "echo first; echo second >&2")
    container.wait()
    assert container.attach(stdout=True, stderr=True, logs=True, stream=False) == b"first\nsecond\n"
    assert container.attach(stdout=True, stderr=False, logs=True, stream=False) == b"first\n"


@pytest.mark.parametrize("keys,typed", [(None, b"\x10\x11"), ("ctrl-x", b"\x18")])
def test_detach_keys_end_the_attach_and_leave_the_container_running(sdk, keys, typed):
    container = run(sdk, "sh", tty=True, stdin_open=True)
    params = {"stdin": 1, "stdout": 1, "stream": 1, **({"detachKeys": keys} if keys else {})}
    sock = sdk.api.attach_socket(container.id, params=params)
    raw = sock._sock
    raw.settimeout(10)
    raw.sendall(b"echo alive\n")
    time.sleep(0.5)
    raw.sendall(typed)
    received = b""
    while chunk := raw.recv(4096):  # the daemon ends the stream: no hang
        received += chunk
    raw.close()
    assert b"alive" in received
    container.reload()
    assert container.status == "running"


def test_commit_of_a_created_container(sdk):
    container = sdk.containers.create("busybox", ["true"], network_mode="none")
    sdk.made.append(container)
    image = container.commit("committed", "created")
    base = sdk.images.get("busybox")
    assert image.attrs["Config"]["Cmd"] == ["true"] and image.attrs["Config"]["Image"] == "busybox"
    assert image.attrs["Parent"] == base.id and image.attrs["ContainerConfig"]["Cmd"] == ["true"]
    assert image.attrs["RootFS"]["Layers"] == base.attrs["RootFS"]["Layers"]  # nothing changed: no empty layer
    history = image.history()
    assert (history[0]["Id"], history[1]["Id"], history[1]["Tags"]) == (image.id, base.id, ["busybox:latest"])
    sdk.images.remove(image.id)


def test_diff_commit_and_export_leave_out_the_etc_files(sdk):
    container = run(sdk, "sh", "-c", "echo x > /made")
    container.wait()
    assert container.diff() == [{"Path": "/made", "Kind": 1}]
    names = tarfile.open(fileobj=io.BytesIO(b"".join(container.export()))).getnames()
    assert "etc/hosts" not in names or _empty(container, "/etc/hosts")
    image = container.commit("committed", "etc")
    sdk.images.remove(image.id)


def _empty(container, path: str) -> bool:
    data = b"".join(container.export())
    member = tarfile.open(fileobj=io.BytesIO(data)).getmember(path.lstrip("/"))
    return member.size == 0


def test_update_restart_policy(sdk):
    container = run(sdk, "sleep", "100")
    container.update(restart_policy={"Name": "on-failure", "MaximumRetryCount": 3})
    container.reload()
    assert container.attrs["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    container.update(mem_limit="64m", memswap_limit=-1)  # resources too, applied to the running container
    container.reload()
    assert container.attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024


def test_unknown_log_driver_is_refused(sdk):
    with pytest.raises(docker.errors.APIError) as refused:
        sdk.containers.create("busybox", ["true"], log_config={"Type": "bogus"})
    assert refused.value.status_code == 400


def test_host_config_in_inspect_carries_dockers_fields(sdk):
    container = sdk.containers.create("busybox", ["true"], network_mode="none")
    sdk.made.append(container)
    host = container.attrs["HostConfig"]
    assert host["Runtime"] == "dockyard" and host["CpuRealtimeRuntime"] == 0 and host["ShmSize"] == 64 * 1024 * 1024
    assert host["IpcMode"] == "private" and host["CgroupnsMode"] in ("host", "private")
    assert "/proc/kcore" in host["MaskedPaths"] and "/proc/sys" in host["ReadonlyPaths"]
    assert container.attrs["Config"]["Env"] is None and container.attrs["Config"]["AttachStdin"] is False


def test_group_add_is_applied(sdk):
    container = run(sdk, "sh", "-c", "id -G", group_add=["10", "4242"])
    container.wait()
    assert container.logs().split() == [b"0", b"10", b"4242"]


def test_load_malformed(daemon):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(daemon.socket))
        body = b"this is not a tar"
        s.sendall(
            b"POST /v1.44/images/load HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-tar\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"unexpected EOF" in rest and json.loads(rest.split(b"\r\n")[1] if b"\r\n" in rest else rest)


@pytest.fixture(scope="module")
def bridged():
    """A daemon with its default bridge, in a network namespace of its own."""
    import os
    import subprocess

    from tests.e2e.daemon import Daemon

    name = f"dyfid{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    instance = Daemon(netns=name, config={})
    try:
        instance.start().import_busybox()
        yield instance
    finally:
        instance.cleanup()
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_legacy_links_give_dockers_environment_and_hosts_and_can_be_removed(bridged):
    sdk = bridged.sdk()
    db = sdk.containers.run(
        "busybox", ["sleep", "100"], detach=True, environment=["SECRET=x"], ports={"5432/tcp": None}
    )
    web = None
    try:
        address = sdk.containers.get(db.id).attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
        web = sdk.containers.run(
            "busybox", ["sh", "-c", "env; cat /etc/hosts; sleep 100"], detach=True, links={db.name: "my-db"}
        )
        time.sleep(0.5)
        output = web.logs().decode()
        assert f"MY_DB_NAME=/{web.name}/my-db" in output.split()
        assert f"MY_DB_PORT_5432_TCP_ADDR={address}" in output.split()
        assert "MY_DB_ENV_SECRET=x" in output.split()
        assert any(line.split()[:2] == [address, "my-db"] for line in output.splitlines())
        sdk.api.remove_container(f"{web.name}/my-db", link=True)
        assert sdk.api.inspect_container(web.id)["HostConfig"]["Links"] is None
        with pytest.raises(docker.errors.NotFound):
            sdk.api.remove_container(f"{web.name}/nothing", link=True)
    finally:
        for container in (web, db):
            if container is not None:
                container.remove(force=True)
        sdk.close()
