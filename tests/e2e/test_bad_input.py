"""Bad input end to end: hostile or broken tars, unknown names, conflicts, malformed JSON and
invalid flags each give a clear error and the right code, write nothing outside the data
root, and leave the daemon serving."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def sentinel(tmp_path):
    """A directory outside the data root that no tar may write into."""
    target = tmp_path / "outside"
    target.mkdir()
    (target / "sentinel").write_text("untouched")
    yield target
    assert sorted(p.name for p in target.iterdir()) == ["sentinel"]
    assert (target / "sentinel").read_text() == "untouched"


def _tar(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file(name: str, data: bytes = b"pwned") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def hostile_tars(outside: Path) -> dict[str, bytes]:
    up = "../" * 12
    return {
        "dotdot": _tar([_file("ok"), _file(f"{up}{outside.relative_to('/')}/dotdot")]),
        "absolute": _tar([_file(f"{outside}/absolute")]),
        "symlink-absolute": _tar([_link("esc", str(outside)), _file("esc/through-symlink")]),
        "symlink-relative": _tar([_link("esc", f"{up}{outside.relative_to('/')}"), _file("esc/through-relative")]),
        "hardlink-outside": _tar([_link("hard", f"{outside}/sentinel", tarfile.LNKTYPE), _file("hard", b"overwrite")]),
        "symlink-then-dir": _tar([_link("d", str(outside)), _file("d/sub/deeper")]),
    }


def _images(daemon) -> set[str]:
    return set(daemon.cli("images", "-aq", "--no-trunc").stdout.split())


@pytest.mark.parametrize(
    "kind", ["dotdot", "absolute", "symlink-absolute", "symlink-relative", "hardlink-outside", "symlink-then-dir"]
)
def test_import_of_a_hostile_tar_writes_nothing_outside(daemon, client, sentinel, kind):
    before = _images(daemon)
    result = daemon.client(client, "import", "-", f"hostile-{kind}", input=hostile_tars(sentinel)[kind], check=False)
    if result.returncode != 0:
        assert b"Error response from daemon" in result.stderr
        assert _images(daemon) == before  # nothing half-registered
    else:  # contained: the entry landed inside the layer, as docker does with absolute names
        daemon.cli("rmi", f"hostile-{kind}")
    assert daemon.ping()


@pytest.mark.parametrize("kind", ["dotdot", "symlink-absolute", "hardlink-outside"])
def test_load_of_an_archive_with_a_hostile_layer(daemon, client, sentinel, kind):
    layer = hostile_tars(sentinel)[kind]
    import hashlib

    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": [f"hostile-load-{kind}:x"], "Layers": ["layer/layer.tar"]}]
    ).encode()
    archive = _tar([_file("manifest.json", manifest), _file(config_name, config), _file("layer/layer.tar", layer)])
    before = _images(daemon)
    result = daemon.client(client, "load", input=archive, check=False)
    if result.returncode == 0:
        daemon.cli("rmi", f"hostile-load-{kind}:x")
    else:
        assert _images(daemon) == before
    assert daemon.ping()


def test_load_archive_naming_files_outside_itself(daemon, client, sentinel):
    manifest = json.dumps(
        [{"Config": "../../../../etc/passwd", "RepoTags": ["escape:x"], "Layers": [f"{sentinel}/sentinel"]}]
    ).encode()
    result = daemon.client(client, "load", input=_tar([_file("manifest.json", manifest)]), check=False)
    # as dockerd: an unreadable archive is reported in the load's stream, after its 200
    assert result.returncode == 1 and "invalid image archive" in result.stderr.decode()
    assert daemon.ping()


@pytest.mark.parametrize("verb", ["import", "load"])
def test_malformed_tar(daemon, client, verb):
    before = _images(daemon)
    garbage = b"this is not a tar archive\n" * 40
    args = ["import", "-"] if verb == "import" else ["load"]
    result = daemon.client(client, *args, input=garbage, check=False)
    # import refuses before its 200; load reports in its stream, as dockerd's (no "Error response")
    expected = b"Error response from daemon" if verb == "import" else b"Error processing tar file"
    assert result.returncode == 1 and expected in result.stderr
    truncated = _tar([_file("big", b"x" * 100_000)])[:5000]
    result = daemon.client(client, *args, input=truncated, check=False)
    assert result.returncode == 1
    assert _images(daemon) == before
    assert daemon.ping()


def test_unknown_image_and_container(daemon, client):
    missing = f"no-such-{uuid.uuid4().hex[:6]}"
    for args in (["image", "inspect", missing], ["rmi", missing], ["history", missing], ["tag", missing, "x:y"]):
        result = daemon.client(client, *args, check=False)
        assert result.returncode == 1 and f"No such image: {missing}" in result.stderr, args
    for args in (
        ["rm", missing],
        ["stop", missing],
        ["start", missing],
        ["logs", missing],
        ["kill", missing],
        ["wait", missing],
        ["rename", missing, "other"],
        ["exec", missing, "true"],
        ["top", missing],
    ):
        result = daemon.client(client, *args, check=False)
        assert result.returncode == 1 and f"No such container: {missing}" in result.stderr, args
    run = daemon.client(client, "run", "--pull", "never", missing, check=False)
    assert run.returncode == 125 and f"No such image: {missing}" in run.stderr


def test_name_conflict(daemon, client):
    name = f"taken-{uuid.uuid4().hex[:6]}"
    container_id = daemon.cli("create", "--name", name, "busybox", "true").stdout.strip()
    expected = (
        f'Conflict. The container name "/{name}" is already in use by container "{container_id}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )
    result = daemon.client(client, "run", "--name", name, "busybox", "true", check=False)
    assert result.returncode == 125 and expected in result.stderr
    result = daemon.client(client, "create", "--name", name, "busybox", "true", check=False)
    assert result.returncode != 0 and expected in result.stderr
    other = daemon.cli("create", "busybox", "true").stdout.strip()
    result = daemon.client(client, "rename", other, name, check=False)
    assert result.returncode == 1 and "Conflict" in result.stderr
    daemon.cli("rm", name, other)


def _raw(daemon, request: bytes) -> tuple[int, bytes]:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(daemon.socket))
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _post(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"Image": 5}', b"\xff\xfe"])
def test_malformed_json_body(daemon, body):
    before = daemon.cli("ps", "-aq").stdout
    status, payload = _raw(daemon, _post("/v1.44/containers/create", body))
    assert status == 400
    message = json.loads(payload.split(b"\r\n", 1)[1] if payload[:1] not in b"{" else payload)["message"]
    assert message
    assert daemon.cli("ps", "-aq").stdout == before and daemon.ping()


def test_unknown_endpoint_and_version(daemon):
    status, payload = _raw(daemon, b"GET /v1.44/no/such/endpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 404
    status, _ = _raw(daemon, b"GET /v9.99/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 400
    assert daemon.ping()


@pytest.mark.parametrize(
    "args",
    [
        ["ps", "--bogus"],
        ["run", "--bogus", "busybox"],
        ["stop", "-t", "soon", "x"],
        ["logs", "--tail"],
        ["kill", "-s", "NOSUCHSIGNAL", "x"],
    ],
)
def test_invalid_flags(daemon, client, args):
    result = daemon.client(client, *args, check=False)
    assert result.returncode in (1, 125) and result.stderr
    assert daemon.ping()


def test_invalid_signal_from_the_daemon(daemon, client):
    name = f"sig-{uuid.uuid4().hex[:6]}"
    daemon.cli("run", "-d", "--name", name, "busybox", "sleep", "60")
    result = daemon.client(client, "kill", "-s", "NOSUCHSIGNAL", name, check=False)
    assert result.returncode == 1 and "Invalid signal: NOSUCHSIGNAL" in result.stderr
    assert daemon.inspect(name)["State"]["Running"]
    daemon.cli("rm", "-f", name)
