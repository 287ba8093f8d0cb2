"""`cp` and the archive endpoints end to end: the dockyard CLI, the real docker CLI, the SDK,
and a container that tries to make them read or write the host."""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import tarfile
import time
import uuid

import pytest

pytestmark = pytest.mark.root

SETUP = (
    "mkdir -p /src/sub && echo data > /src/f && chown 5:6 /src/f && chmod 640 /src/f && "
    "ln -s /etc/passwd /src/link && chmod 4755 /src/sub && touch /src/sub/empty"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def worker(daemon):
    name = unique("cp")
    daemon.cli("run", "-d", "--name", name, "-v", "/vol", "busybox", "sh", "-c", SETUP + " && sleep 1000")
    deadline = time.monotonic() + 10
    while daemon.cli("exec", name, "test", "-e", "/src/sub/empty", check=False).returncode:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield name
    daemon.cli("rm", "-fv", name, check=False)


def _request(daemon, method: str, path: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    """One raw HTTP request on the daemon's socket (Connection: close)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(daemon.socket))
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        s.sendall(head.encode() + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    header, _, rest = data.partition(b"\r\n\r\n")
    lines = header.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, rest


def test_round_trip_keeps_modes_owners_and_links(daemon, client, worker, tmp_path):
    out = tmp_path / "out"
    daemon.client(client, "cp", "-a", f"{worker}:/src", str(out))
    assert (out / "f").read_text() == "data\n"
    owner = (5, 6) if client == "dockyard" else (0, 0)  # docker's CLI owns copied-out files itself, even with -a
    assert (os.stat(out / "f").st_uid, os.stat(out / "f").st_gid) == owner
    assert oct(os.stat(out / "f").st_mode & 0o7777) == "0o640"
    assert oct(os.stat(out / "sub").st_mode & 0o7777) == "0o4755"
    assert os.readlink(out / "link") == "/etc/passwd"
    daemon.client(client, "cp", "-a", str(out), f"{worker}:/back")
    listing = daemon.cli("exec", worker, "sh", "-c", "stat -c '%n %u:%g %a' /back/f /back/sub; readlink /back/link")
    assert listing.stdout == f"/back/f {owner[0]}:{owner[1]} 640\n/back/sub 0:0 4755\n/etc/passwd\n"
    streamed = daemon.client(client, "cp", f"{worker}:/src/f", "-", input=b"").stdout
    with tarfile.open(fileobj=io.BytesIO(streamed)) as tar:
        assert [(m.name, m.mode) for m in tar.getmembers()] == [("f", 0o640)]
    contents = daemon.client(client, "cp", f"{worker}:/src/.", str(tmp_path / "dot"))
    assert contents.returncode == 0 and (tmp_path / "dot" / "f").is_file()


def test_cp_of_a_stopped_container_reaches_its_volumes(daemon, client, worker, tmp_path):
    daemon.cli("kill", worker)
    daemon.cli("wait", worker)
    (tmp_path / "in.txt").write_text("into the volume\n")
    daemon.client(client, "cp", str(tmp_path / "in.txt"), f"{worker}:/vol/in.txt")
    daemon.client(client, "cp", f"{worker}:/vol/in.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "into the volume\n"
    volume = next(m for m in daemon.inspect(worker)["Mounts"] if m["Destination"] == "/vol")
    assert open(os.path.join(volume["Source"], "in.txt")).read() == "into the volume\n"
    with open("/proc/self/mountinfo") as f:
        assert str(daemon.data_root) + "/containers/" not in f.read()  # nothing left mounted


def test_sdk_put_and_get_archive(daemon, worker):
    sdk = daemon.sdk()
    container = sdk.containers.get(worker)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("dir/put.txt")
        info.size, info.mode, info.uid, info.gid = 3, 0o600, 42, 43
        tar.addfile(info, io.BytesIO(b"sdk"))
    assert container.put_archive("/tmp", buffer.getvalue())
    bits, stat = container.get_archive("/tmp/dir/put.txt")
    assert stat["name"] == "put.txt" and stat["size"] == 3 and stat["mode"] == 0o600
    with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as tar:
        member = tar.getmember("put.txt")
        assert (member.uid, member.gid, tar.extractfile(member).read()) == (42, 43, b"sdk")
    _, link = container.get_archive("/src/link")
    assert link["linkTarget"] == "/etc/passwd" and link["mode"] & (1 << 27)
    sdk.close()


def test_archive_errors_lose_nothing(daemon, worker):
    status, _, body = _request(daemon, "PUT", f"/containers/{worker}/archive?path=/src", b"not a tar" * 100)
    assert status == 400
    assert daemon.cli("exec", worker, "cat", "/src/f").stdout == "data\n"
    status, _, body = _request(daemon, "PUT", f"/containers/{worker}/archive?path=/missing", b"x")
    assert (status, json.loads(body)["message"]) == (404, f"Could not find the file /missing in container {worker}")
    status, _, body = _request(daemon, "PUT", f"/containers/{worker}/archive?path=/src/f", b"x")
    assert (status, json.loads(body)["message"]) == (400, "extraction point is not a directory")
    status, headers, _ = _request(daemon, "HEAD", f"/containers/{worker}/archive?path=/src/sub")
    stat = json.loads(base64.b64decode(headers["x-docker-container-path-stat"]))
    assert status == 200 and stat["name"] == "sub" and stat["mode"] == (1 << 31) | (1 << 23) | 0o755
    status, _, _ = _request(daemon, "HEAD", f"/containers/{worker}/archive?path=/nothing")
    assert status == 404


def test_a_hostile_container_cannot_make_cp_touch_the_host(daemon, client, tmp_path):
    """Links to / and /etc, and a directory swapped for a link to / in a tight loop."""
    name = unique("hostile")
    swap = "while true; do mkdir -p /race/dir; echo inside > /race/dir/file; rm -rf /race/dir; ln -s / /race/dir; rm /race/dir; done"
    daemon.cli(
        "run", "-d", "--name", name, "busybox", "sh", "-c",
        f"mkdir -p /race; ln -s / /race/root; ln -s /etc /race/etc; ln -s ../../../.. /race/up; {swap}",
    )  # fmt: skip
    marker = f"dockyard-escape-{uuid.uuid4().hex}"
    (tmp_path / marker).write_text("x")
    try:
        assert "Debian" in open("/etc/os-release").read()  # what must never come out of the container
        for path in ("/race/root/etc/os-release", "/race/etc/os-release", "/race/up/etc/os-release"):
            refused = daemon.client(client, "cp", f"{name}:{path}", "-", check=False)
            assert refused.returncode != 0 and "Could not find the file" in refused.stderr
        for _ in range(25):
            got = daemon.client(client, "cp", f"{name}:/race/dir/file", "-", input=b"", check=False)
            assert b"Debian" not in got.stdout
            daemon.client(client, "cp", str(tmp_path / marker), f"{name}:/race/dir/", check=False)
            daemon.client(client, "cp", str(tmp_path / marker), f"{name}:/race/etc/", check=False)
            daemon.client(client, "cp", str(tmp_path / marker), f"{name}:/race/up/", check=False)
        whole = daemon.client(client, "cp", f"{name}:/race/root/etc/.", str(tmp_path / "etc"), check=False)
        assert whole.returncode == 0 and not (tmp_path / "etc" / "os-release").exists()
        assert not os.path.exists(f"/{marker}") and not os.path.exists(f"/etc/{marker}")
        found = daemon.cli("exec", name, "sh", "-c", f"ls /{marker} /etc/{marker}").stdout.split()
        assert found == [f"/{marker}", f"/etc/{marker}"]  # landed inside the container instead
    finally:
        for leaked in (f"/{marker}", f"/etc/{marker}"):
            if os.path.exists(leaked):
                os.unlink(leaked)
        daemon.cli("rm", "-f", name, check=False)


def test_diff_kinds(daemon, client, worker):
    daemon.cli("exec", worker, "sh", "-c", "echo new > /created; echo more >> /etc/group; rm /etc/passwd")
    lines = set(daemon.client(client, "diff", worker).stdout.splitlines())
    assert {"A /created", "C /etc/group", "D /etc/passwd"} <= lines
