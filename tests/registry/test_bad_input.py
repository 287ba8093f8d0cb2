"""Bad input gets the spec's error code, leaves nothing half-stored, and the registry keeps serving."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

from dockyard.registry.config import Config
from tests.registry.registry_support import OCI_MANIFEST, Client, RunningRegistry, image_manifest, push_image, sha


def visible_blobs(registry) -> set[str]:
    return {p.name for p in (registry.storage / "blobs" / "sha256").iterdir()}


def uploads(registry) -> list[str]:
    return os.listdir(registry.storage / "uploads")


def test_wrong_digest_on_upload_stores_nothing(registry, client):
    before = visible_blobs(registry)
    reply = client.request("POST", f"/v2/bad/digest/blobs/uploads/?digest={sha(b'other')}", b"actual")
    assert reply.status == 400 and reply.codes == ["DIGEST_INVALID"]
    location = client.request("POST", "/v2/bad/digest/blobs/uploads/").headers["location"]
    reply = client.request("PUT", f"{location}?digest={sha(b'other')}", b"actual")
    assert reply.codes == ["DIGEST_INVALID"]
    assert client.request("PUT", f"{location}?digest=sha256:nothex", b"x").status in (400, 404)
    assert visible_blobs(registry) == before and uploads(registry) == []
    assert client.request("GET", f"/v2/bad/digest/blobs/{sha(b'actual')}").status == 404


def test_invalid_digest_syntax(registry, client):
    location = client.request("POST", "/v2/bad/syntax/blobs/uploads/").headers["location"]
    assert client.request("PUT", f"{location}?digest=md5:abc", b"x").codes == ["DIGEST_INVALID"]
    assert client.request("GET", "/v2/bad/syntax/blobs/sha256:zz").codes == ["DIGEST_INVALID"]


def test_malformed_and_oversized_manifests(registry, client):
    reply = client.request("PUT", "/v2/bad/man/manifests/v1", b'{"schemaVersion": 2,', {"Content-Type": OCI_MANIFEST})
    assert reply.status == 400 and reply.codes == ["MANIFEST_INVALID"]
    huge = b'{"schemaVersion": 2, "x": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    reply = client.request("PUT", "/v2/bad/man/manifests/v1", huge, {"Content-Type": OCI_MANIFEST})
    assert reply.status == 413
    client.push_blob("bad/man", b"{}")
    data = json.dumps(image_manifest(b"{}", [])).encode()
    reply = client.request("PUT", f"/v2/bad/man/manifests/{sha(b'different')}", data, {"Content-Type": OCI_MANIFEST})
    assert reply.codes == ["DIGEST_INVALID"]
    assert client.request("GET", "/v2/bad/man/manifests/v1").status == 404
    assert not (registry.storage / "repositories" / "bad" / "man" / "_manifests").exists()


def test_missing_blob_manifest_leaves_no_revision(registry, client):
    config = b"{}"
    client.push_blob("bad/ref", config)
    doc = image_manifest(config, [b"missing layer"])
    assert client.push_manifest("bad/ref", "v1", doc).codes == ["MANIFEST_BLOB_UNKNOWN"]
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha(b"nope"), "size": 4}],
    }
    assert client.push_manifest("bad/ref", "idx", index).codes == ["MANIFEST_BLOB_UNKNOWN"]
    assert client.request("GET", "/v2/bad/ref/tags/list").json()["tags"] == []
    assert sha(json.dumps(doc).encode())[7:] not in visible_blobs(registry)


@pytest.mark.parametrize(
    "path",
    [
        "/v2/../../etc/manifests/latest",
        "/v2/a/../../b/blobs/uploads/",
        "/v2/A/tags/list",
        "/v2/a/%2e%2e/b/tags/list",
        "/v2/a//b/manifests/x",
        "/v2/" + "a" * 300 + "/tags/list",
    ],
)
def test_invalid_names_and_traversal(registry, client, path):
    reply = client.request("GET", path)
    assert reply.status == 400 and reply.codes == ["NAME_INVALID"]
    reply = client.request("POST", path if "uploads" in path else "/v2/../x/blobs/uploads/")
    assert reply.status in (400, 404)
    assert sorted(os.listdir(registry.storage / "repositories")) == []


def test_upload_of_other_repository_or_unknown_id(registry, client):
    location = client.request("POST", "/v2/bad/one/blobs/uploads/").headers["location"]
    upload_id = location.rsplit("/", 1)[1]
    assert client.request("PATCH", f"/v2/bad/two/blobs/uploads/{upload_id}", b"x").codes == ["BLOB_UPLOAD_UNKNOWN"]
    assert client.request("GET", "/v2/bad/one/blobs/uploads/not-a-uuid").codes == ["BLOB_UPLOAD_UNKNOWN"]
    assert client.request("GET", "/v2/bad/one/blobs/uploads/../../x").status == 404


def raw_connection(registry) -> socket.socket:
    host, port = registry.host.split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_upload_that_stops_half_way_is_cut_back(registry, client):
    location = client.request("POST", "/v2/bad/half/blobs/uploads/").headers["location"]
    client.request("PATCH", location, b"a" * 1000, {"Content-Range": "0-999"})
    sock = raw_connection(registry)
    sock.sendall(
        f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nContent-Range: 1000-100999\r\n\r\n".encode()
        + b"b" * 5000
    )
    sock.close()
    time.sleep(0.3)
    status = client.request("GET", location)
    assert status.status == 204 and status.headers["range"] == "0-999"
    done = client.request("PUT", f"{location}?digest={sha(b'a' * 1001)}", b"a", {"Content-Range": "1000-1000"})
    assert done.status == 201
    sock = raw_connection(registry)
    sock.sendall(
        f"POST /v2/bad/half/blobs/uploads/?digest={sha(b'c' * 9000)} HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 9000\r\n\r\n".encode()
        + b"c" * 100
    )
    sock.close()
    time.sleep(0.3)
    assert client.request("GET", f"/v2/bad/half/blobs/{sha(b'c' * 9000)}").status == 404
    assert uploads(registry) == [location.rsplit("/", 1)[1]] or uploads(registry) == []


@pytest.fixture
def limited(tmp_path):
    running = RunningRegistry(tmp_path / "storage", Config(max_upload_size=1 << 20, read_timeout=1.0))
    yield running
    running.close()


def test_client_that_sends_forever_is_cut_off(limited):
    sock = raw_connection(limited)
    sock.sendall(
        b"POST /v2/bad/forever/blobs/uploads/?digest="
        + sha(b"").encode()
        + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"10000\r\n" + b"z" * 0x10000 + b"\r\n"
    sent, started = 0, time.monotonic()
    with pytest.raises(OSError):
        while sent < 256 << 20 and time.monotonic() - started < 20:
            sock.sendall(chunk)
            sent += len(chunk)
    sock.close()
    assert sent < 64 << 20
    client = Client(limited.host)
    assert client.request("GET", "/v2/").status == 200
    assert client.request("GET", f"/v2/bad/forever/blobs/{sha(b'')}").status == 404
    assert uploads(limited) == []


def test_declared_oversize_is_refused_before_reading(limited):
    client = limited.client()
    location = client.request("POST", "/v2/bad/big/blobs/uploads/").headers["location"]
    sock = raw_connection(limited)
    sock.sendall(f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: {2 << 20}\r\n\r\n".encode())
    head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413")
    sock.close()
    assert client.request("GET", location).headers["range"] == "0-0"
    assert client.request("GET", "/v2/").status == 200


def test_stalled_client_is_disconnected(limited):
    sock = raw_connection(limited)
    sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    assert sock.recv(100).startswith(b"HTTP/1.1 408 ")
    assert sock.recv(100) == b""
    assert 0.5 < time.monotonic() - started < 5
    sock.close()
    assert limited.client().request("GET", "/v2/").status == 200


@pytest.mark.parametrize(
    "garbage,status",
    [
        (b"NOT HTTP AT ALL\r\n\r\n", b"400"),
        (b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Endless: " + b"a" * (600 * 1024), b"431"),
    ],
)
def test_broken_http_is_answered_and_closed(registry, garbage, status):
    sock = raw_connection(registry)
    sock.sendall(garbage)
    answer = b""
    while chunk := sock.recv(4096):
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 " + status)


def test_registry_keeps_serving_after_bad_requests(registry, client):
    push_image(client, "bad/after", "v1")
    assert client.request("GET", "/v2/bad/after/manifests/v1").status == 200
