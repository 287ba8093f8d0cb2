"""Hypothesis-generated hostile requests to the registry: malformed names, references, digests, ranges,
upload ids, pagination, manifests, Content-Length/Transfer-Encoding combinations and huge headers. Each gets
a 4xx (a spec error in JSON whenever the request could be parsed) and leaves the storage byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.registry.config import Config
from tests.registry.registry_support import RunningRegistry, push_image, sha

SPEC_CODES = {
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
    "PAGINATION_NUMBER_INVALID",
    "NOT_FOUND",
    "UNKNOWN",
}
NAME, LAYER = "fuzz/app", b"fuzz layer"


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    running = RunningRegistry(root / "storage", Config(header_timeout=5, body_grace=2))
    client = running.client()
    push_image(client, NAME, "v1", [LAYER])
    upload = client.request("POST", f"/v2/{NAME}/blobs/uploads/").headers["location"]
    client.close()
    yield running, upload
    running.close()


def snapshot(root: Path) -> dict[str, str]:
    """Every file under the storage root (temp files aside) and a hash of its bytes."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "tmp" not in path.relative_to(root).parts:
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


hexdigits = "0123456789abcdef"
bad_names = st.one_of(
    st.sampled_from(["UPPER/case", "a//b", "a/../b", "./a", "a/", "-a", "a-", "a__-b", "a/.b", "%2e%2e/a", "a b"]),
    st.text(alphabet="abcXYZ._-/ %:@", min_size=1, max_size=40).filter(lambda s: not s.islower() or ".." in s),
    st.just("a" * 300),
    st.text(alphabet="äöü€漢", min_size=1, max_size=5),
)
bad_digests = st.one_of(
    st.sampled_from(["sha256:", "sha256:xyz", "md5:" + "a" * 32, "SHA256:" + "a" * 64, "sha256" + "a" * 64]),
    st.text(alphabet=hexdigits, min_size=1, max_size=70).filter(lambda s: len(s) != 64).map(lambda s: "sha256:" + s),
    st.text(alphabet=hexdigits + "G:+", min_size=64, max_size=64)
    .filter(lambda s: not set(s) <= set(hexdigits))
    .map(lambda s: "sha256:" + s),
    st.text(alphabet="abc:+._-", min_size=1, max_size=20).map(lambda s: s + ":" + "a" * 64),
)
bad_tags = st.one_of(
    st.sampled_from([".hidden", "-dash", "a" * 129, "tag with space", "tag%00"]),
    st.text(alphabet="abc!$&'()*,;=~ ", min_size=1, max_size=20).filter(lambda s: not s.isalnum()),
)
bad_ranges = st.one_of(
    st.sampled_from(["bytes=", "bytes=-", "bytes=100-", "bytes=5-2", "items=0-1", "bytes=0-1,3-4", "bytes=a-b"]),
    st.integers(min_value=len(LAYER), max_value=1 << 62).map(lambda n: f"bytes={n}-"),
    st.text(alphabet="bytes=-0123456789, ", max_size=30).filter(lambda s: s.strip() and not s.startswith("bytes=")),
)


def request(method: str, path: str, headers: list[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers)
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + body


@st.composite
def hostile(draw, upload: str) -> bytes:
    digest = sha(LAYER)
    kind = draw(st.integers(min_value=0, max_value=11))
    if kind == 0:
        endpoint = draw(st.sampled_from(["tags/list", "manifests/v1", f"blobs/{digest}", "blobs/uploads/"]))
        method = draw(st.sampled_from(["GET", "HEAD", "DELETE", "POST", "PUT", "PATCH"]))
        return request(method, f"/v2/{draw(bad_names)}/{endpoint}")
    if kind == 1:
        where = draw(st.sampled_from(["blobs", "manifests"]))
        method = draw(st.sampled_from(["GET", "HEAD", "DELETE"] + (["PUT"] if where == "manifests" else [])))
        return request(method, f"/v2/{NAME}/{where}/{draw(bad_digests)}")
    if kind == 2:
        method = draw(st.sampled_from(["GET", "HEAD", "DELETE", "PUT"]))
        body = b'{"schemaVersion": 2}' if method == "PUT" else b""
        return request(method, f"/v2/{NAME}/manifests/{draw(bad_tags)}", body=body)
    if kind == 3:
        return request(
            draw(st.sampled_from(["GET", "HEAD"])), f"/v2/{NAME}/blobs/{digest}", [("Range", draw(bad_ranges))]
        )
    if kind == 4:
        bogus = draw(st.one_of(st.uuids().map(str), st.text(alphabet="abc-123", min_size=1, max_size=40)))
        method = draw(st.sampled_from(["GET", "PATCH", "PUT", "DELETE"]))
        query = f"?digest={digest}" if method == "PUT" else ""
        return request(method, f"/v2/{NAME}/blobs/uploads/{bogus}{query}", body=b"data" if method != "GET" else b"")
    if kind == 5:
        return request("PUT", f"{upload}?digest={draw(bad_digests)}", body=draw(st.binary(max_size=64)))
    if kind == 6:
        value = draw(
            st.text(alphabet="0123456789-/bytes *", min_size=1, max_size=20).filter(
                lambda v: v.strip() and not re.fullmatch(r"\s*(?:bytes[ =])?0+-\d+(?:/(?:\d+|\*))?\s*", v)
            )
        )
        return request("PATCH", upload, [("Content-Range", value)], b"chunk")
    if kind == 7:
        n = draw(st.one_of(st.text(alphabet="-x.e ", min_size=1, max_size=5), st.just("-1"), st.just("1e3")))
        return request("GET", draw(st.sampled_from(["/v2/_catalog", f"/v2/{NAME}/tags/list"])) + f"?n={n}")
    if kind == 8:
        body = draw(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
        media = draw(st.sampled_from(["application/vnd.oci.image.manifest.v1+json", "text/plain", "", "a/b; c"]))
        return request("PUT", f"/v2/{NAME}/manifests/fuzzed", [("Content-Type", media)], body)
    if kind == 9:
        framing = draw(
            st.sampled_from(
                [
                    [("Content-Length", "5"), ("Content-Length", "6")],
                    [("Content-Length", "-1")],
                    [("Content-Length", "abc")],
                    [("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
                    [("Transfer-Encoding", "gzip")],
                    [("Transfer-Encoding", "chunked, chunked")],
                    [("Transfer-Encoding", "chunked")],
                ]
            )
        )
        body = b"zz\r\nhello\r\n0\r\n\r\n" if framing == [("Transfer-Encoding", "chunked")] else b"hello"
        return request(draw(st.sampled_from(["PUT", "PATCH", "POST"])), upload, framing, body)
    if kind == 10:
        size = draw(st.integers(min_value=65 * 1024, max_value=200 * 1024))
        return request("GET", f"/v2/{NAME}/tags/list", [("X-Huge", "h" * size)])
    method = draw(st.sampled_from(["BREW", "TRACE", "CONNECT", "OPTIONS", "PROPFIND"]))
    return request(method, draw(st.sampled_from(["/v2/", f"/v2/{NAME}/manifests/v1", "/nope", "/v2/_catalog"])))


def send(host: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
    address, port = host.split(":")
    answer = b""
    with socket.create_connection((address, int(port)), timeout=15) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading everything (a huge header): read its answer
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split(" ")[1]), {k.lower(): v for k, v in headers.items()}, body


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_requests_get_a_4xx_and_change_nothing(target, data):
    running, upload = target
    before = snapshot(running.storage)
    raw = data.draw(hostile(upload), label="request")
    status, headers, body = send(running.host, raw)
    assert 400 <= status < 500, (raw[:200], status, body[:200])
    if headers.get("content-type") == "application/json":
        if not raw.startswith(b"HEAD "):
            codes = [e["code"] for e in json.loads(body)["errors"]]
            assert set(codes) <= SPEC_CODES, codes
    elif status not in (400, 408, 431):  # plain text only for requests too broken to parse (or too slow)
        pytest.fail(f"a parsed request got a non-JSON {status}: {raw[:200]!r}")
    assert snapshot(running.storage) == before
