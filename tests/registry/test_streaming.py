"""Streaming: a blob far larger than the server's memory growth goes up and down, while other clients are served.

The registry runs as its own process (`python -m dockyard.registry serve`) so its peak RSS (VmHWM) can be read.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import subprocess
import sys
import threading
import time

import pytest

from tests.registry.registry_support import Client, free_port, push_image

BLOCK = os.urandom(1 << 20)
BLOB_MIB = 256


def peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dockyard.registry",
            "serve",
            "--addr",
            f"127.0.0.1:{port}",
            "--storage",
            str(tmp_path / "storage"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    host = f"127.0.0.1:{port}"
    for _ in range(100):
        try:
            Client(host).request("GET", "/v2/")
            break
        except OSError:
            time.sleep(0.05)
    yield host, process
    process.terminate()
    process.wait(10)


def test_large_blob_streams_with_bounded_memory(served):
    host, process = served
    baseline = peak_rss_kib(process.pid)
    digest = hashlib.sha256()
    for _ in range(BLOB_MIB):
        digest.update(BLOCK)
    blob = "sha256:" + digest.hexdigest()
    conn = http.client.HTTPConnection(host, timeout=60)
    conn.request("POST", "/v2/big/blob/blobs/uploads/", headers={"Content-Length": "0"})
    started = conn.getresponse()
    started.read()
    conn.request(
        "PUT",
        f"{started.getheader('location')}?digest={blob}",
        body=(BLOCK for _ in range(BLOB_MIB)),
        encode_chunked=True,
    )
    finished = conn.getresponse()
    finished.read()
    assert finished.status == 201
    others_ok = []

    def small_requests() -> None:
        client = Client(host)
        others_ok.append(all(push_image(client, "big/small", f"t{i}")[0] for i in range(5)))

    side = threading.Thread(target=small_requests)
    side.start()
    conn.request("GET", f"/v2/big/blob/blobs/{blob}")
    response = conn.getresponse()
    check = hashlib.sha256()
    while chunk := response.read(1 << 20):
        check.update(chunk)
    side.join()
    assert "sha256:" + check.hexdigest() == blob
    assert others_ok == [True]
    growth_mib = (peak_rss_kib(process.pid) - baseline) / 1024
    assert growth_mib < 48, f"server grew by {growth_mib:.0f} MiB for a {BLOB_MIB} MiB blob"


def test_concurrent_uploads_and_downloads(served):
    host, _ = served
    blobs = [os.urandom(2 << 20) for _ in range(6)]
    client = Client(host)
    stored = [client.push_blob("big/many", blob) for blob in blobs[:3]]
    errors: list[str] = []

    def download(digest: str, data: bytes) -> None:
        reply = Client(host).request("GET", f"/v2/big/many/blobs/{digest}")
        if reply.body != data:
            errors.append(digest)

    def upload(data: bytes) -> None:
        Client(host).push_blob("big/many", data)

    threads = [threading.Thread(target=download, args=(d, b)) for d, b in zip(stored, blobs[:3], strict=True)]
    threads += [threading.Thread(target=upload, args=(b,)) for b in blobs[3:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    for blob in blobs[3:]:
        assert client.request("HEAD", f"/v2/big/many/blobs/sha256:{hashlib.sha256(blob).hexdigest()}").status == 200
