"""dockyard's registry vs Debian's docker-registry (distribution 2.8) on the same machine and data, interleaved.

    PYTHONPATH=src python bench/registry_bench.py [--rounds 3] [--blob-mib 256] [--seconds 3] [--clients 8]

Measures, per registry and round: push throughput (POST then PUT of one blob), pull throughput (GET of
that blob), and requests per second for a small manifest (GET of one tag; PUT of a new manifest under a new tag
each time) from `--clients` keep-alive
HTTP/1.1 connections in separate processes. Rounds alternate which registry goes first; the report
gives medians and the ratio dockyard / reference. Traffic stays on 127.0.0.1 and every loop is bounded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BLOCK = 1 << 20
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.I)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int) -> None:
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def start_dockyard(root: Path) -> subprocess.Popen:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dockyard.registry",
            "serve",
            "--addr",
            f"127.0.0.1:{port}",
            "--storage",
            str(root / "dockyard"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    proc.port = port  # type: ignore[attr-defined]
    wait_ready(port)
    return proc


def start_reference(root: Path) -> subprocess.Popen:
    port = free_port()
    config = root / "reference.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {root / 'reference'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    proc = subprocess.Popen(
        ["/usr/bin/docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    proc.port = port  # type: ignore[attr-defined]
    wait_ready(port)
    return proc


class Conn:
    """A raw keep-alive HTTP/1.1 connection: the cheapest client Python can be."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray(BLOCK)

    def exchange(self, head: bytes, body: bytes = b"", sink: bool = False) -> tuple[int, bytes, int]:
        """Send one request; return status, header bytes and the body length (the body is discarded)."""
        self.sock.sendall(head + body)
        return self.read_response()

    def read_response(self) -> tuple[int, bytes, int]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        headers, _, rest = data.partition(b"\r\n\r\n")
        match = _LENGTH.search(headers)
        length = int(match.group(1)) if match else 0
        if headers.startswith(b"HTTP/1.1 204") or headers.startswith(b"HTTP/1.1 304"):
            length = 0
        got = len(rest)
        view = memoryview(self.buf)
        while got < length:
            n = self.sock.recv_into(view, min(BLOCK, length - got))
            if not n:
                raise ConnectionError("closed mid-body")
            got += n
        return int(headers[9:12]), headers, length


def request(method: str, path: str, headers: dict[str, str] | None = None, length: int = 0) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def blob_of(seed: int, mib: int) -> tuple[bytes, str]:
    first = hashlib.sha256(str(seed).encode()).digest() * (BLOCK // 32)
    digest = hashlib.sha256(first)
    filler = b"\xa5" * BLOCK
    for _ in range(mib - 1):
        digest.update(filler)
    return first, "sha256:" + digest.hexdigest()


def push_blob(port: int, repo: str, seed: int, mib: int) -> float:
    """Seconds to PUT a `mib` MiB blob (after POST)."""
    first, digest = blob_of(seed, mib)
    conn = Conn(port)
    status, headers, _ = conn.exchange(request("POST", f"/v2/{repo}/blobs/uploads/"))
    location = re.search(rb"location:\s*(\S+)", headers, re.I).group(1).decode()
    location = re.sub(r"^https?://[^/]+", "", location)
    sep = "&" if "?" in location else "?"
    filler = b"\xa5" * BLOCK
    started = time.perf_counter()
    conn.sock.sendall(
        request("PUT", f"{location}{sep}digest={digest}", {"Content-Type": "application/octet-stream"}, mib * BLOCK)
    )
    conn.sock.sendall(first)
    for _ in range(mib - 1):
        conn.sock.sendall(filler)
    status, _, _ = conn.read_response()
    elapsed = time.perf_counter() - started
    assert status == 201, status
    conn.sock.close()
    return elapsed


def pull_blob(port: int, repo: str, seed: int, mib: int) -> float:
    _, digest = blob_of(seed, mib)
    conn = Conn(port)
    started = time.perf_counter()
    status, _, length = conn.exchange(request("GET", f"/v2/{repo}/blobs/{digest}"))
    elapsed = time.perf_counter() - started
    assert status == 200 and length == mib * BLOCK, (status, length)
    conn.sock.close()
    return elapsed


def push_small_image(port: int, repo: str) -> bytes:
    """Config + one layer + manifest; returns the manifest bytes."""
    conn = Conn(port)
    blobs = [b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}', b"layer" * 100]
    for blob in blobs:
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        status, headers, _ = conn.exchange(request("POST", f"/v2/{repo}/blobs/uploads/"))
        location = re.sub(r"^https?://[^/]+", "", re.search(rb"location:\s*(\S+)", headers, re.I).group(1).decode())
        sep = "&" if "?" in location else "?"
        status, _, _ = conn.exchange(request("PUT", f"{location}{sep}digest={digest}", length=len(blob)), blob)
        assert status == 201
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + hashlib.sha256(blobs[0]).hexdigest(),
                "size": len(blobs[0]),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + hashlib.sha256(blobs[1]).hexdigest(),
                    "size": len(blobs[1]),
                }
            ],
        }
    ).encode()
    put = request(
        "PUT",
        f"/v2/{repo}/manifests/latest",
        {"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        len(manifest),
    )
    assert conn.exchange(put, manifest)[0] == 201
    return manifest


def _hammer(port: int, head: bytes, body: bytes, seconds: float, out: multiprocessing.Queue) -> None:
    """Repeat one request; a PUT body holding `NONCE` gets a fresh value each time (a new manifest and tag)."""
    conn = Conn(port)
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if b"NONCE" in body:
            nonce = f"{os.getpid()}-{count}".encode()
            sent = body.replace(b"NONCE", nonce)
            length = b"Content-Length: " + str(len(sent)).encode()
            request_head = head.replace(b"NONCE", nonce).replace(b"Content-Length: 0", length)
            status, _, _ = conn.exchange(request_head, sent)
        else:
            status, _, _ = conn.exchange(head, body)
        if status >= 300:
            raise RuntimeError(f"status {status}")
        count += 1
    out.put(count)


def requests_per_second(port: int, head: bytes, body: bytes, clients: int, seconds: float) -> float:
    """Requests per second from `clients` processes, each on its own keep-alive connection."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_hammer, args=(port, head, body, seconds, queue)) for _ in range(clients)]
    for proc in procs:
        proc.start()
    total = sum(queue.get(timeout=seconds + 60) for _ in procs)
    for proc in procs:
        proc.join()
    return total / seconds


def one_round(port: int, seed: int, args: argparse.Namespace, manifest: bytes) -> dict[str, float]:
    mib = args.blob_mib
    push = push_blob(port, "bench/big", seed, mib)
    pull = pull_blob(port, "bench/big", seed, mib)
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    get = requests_per_second(
        port, request("GET", "/v2/bench/small/manifests/latest", accept), b"", args.clients, args.seconds
    )
    unique = manifest[:-1] + b', "annotations": {"nonce": "NONCE"}}'
    put_head = request(
        "PUT", "/v2/bench/small/manifests/t-NONCE", {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    )
    put = requests_per_second(port, put_head, unique, args.clients, args.seconds)
    return {
        "push_MBps": mib * BLOCK / push / 1e6,
        "pull_MBps": mib * BLOCK / pull / 1e6,
        "manifest_get_rps": get,
        "manifest_put_rps": put,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--blob-mib", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        servers = {"dockyard": start_dockyard(Path(tmp)), "reference": start_reference(Path(tmp))}
        try:
            manifests = {name: push_small_image(p.port, "bench/small") for name, p in servers.items()}
            results: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            for r in range(args.rounds):
                order = list(servers) if r % 2 == 0 else list(reversed(servers))
                for name in order:
                    results[name].append(one_round(servers[name].port, r, args, manifests[name]))
                    print(
                        f"round {r} {name}: {json.dumps({k: round(v, 1) for k, v in results[name][-1].items()})}",
                        flush=True,
                    )
        finally:
            for proc in servers.values():
                proc.terminate()
                proc.wait(10)
    print(f"\nmedians over {args.rounds} rounds, blob {args.blob_mib} MiB, {args.clients} clients:")
    print(f"{'metric':<18}{'dockyard':>12}{'reference':>12}{'ratio':>8}")
    for metric in results["dockyard"][0]:
        ours = statistics.median(r[metric] for r in results["dockyard"])
        theirs = statistics.median(r[metric] for r in results["reference"])
        print(f"{metric:<18}{ours:>12.1f}{theirs:>12.1f}{ours / theirs:>8.2f}")


if __name__ == "__main__":
    main()
