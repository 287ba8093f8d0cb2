"""The Engine API under load: N clients doing /_ping, /containers/json (50 containers) and inspect.

    python bench/api_load.py [--clients 1,16,256,1000] [--seconds 5] [--rounds 2]
    python bench/api_load.py --target old=/path/a.sock --target new=/path/b.sock

Without --target it starts a dockyard daemon and, where Debian's `dockerd` is installed, a
reference dockerd (both as bench/run.py does: temporary roots, no bridge, no iptables),
imports busybox into each and creates 50 containers in each. Every client holds one
keep-alive connection (as the docker SDK and compose do) and loops over the three requests
for --seconds; rounds alternate between the targets at each N, so load on the shared
machine hits them alike. The clients are asyncio in this process. Prints requests per
second, p50 and p99 latency and errors (a non-200 answer, a reset, or no answer within
30 s) per target and N, and each figure against the first target's.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CONTAINERS = 50
TIMEOUT = 30.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: api-load\r\n\r\n".encode()


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length or chunked); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:] if line)}
    if fields.get(b"transfer-encoding") == b"chunked":
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    else:
        await reader.readexactly(int(fields.get(b"content-length", b"0")))
    return status


async def client(sock_path: str, paths: list[bytes], stop_at: float, offset: int) -> Tally:
    tally = Tally()
    reader = writer = None
    i = offset
    while time.monotonic() < stop_at:
        began = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(sock_path), TIMEOUT)
            writer.write(paths[i % len(paths)])
            status = await asyncio.wait_for(read_response(reader), TIMEOUT)
            if status != 200:
                tally.errors += 1
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            tally.errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        tally.latencies.append(time.monotonic() - began)
        i += 1
    if writer is not None:
        writer.close()
    return tally


async def load(sock_path: str, paths: list[bytes], clients: int, seconds: float) -> Tally:
    began = time.monotonic()
    stop_at = began + seconds
    tallies = await asyncio.gather(*(client(sock_path, paths, stop_at, n) for n in range(clients)))
    total = Tally(seconds=time.monotonic() - began)
    for tally in tallies:
        total.add(tally)
    return total


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.unix_path)


def call(sock_path: str, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    """One blocking request (for set-up)."""
    conn = UnixConnection(sock_path)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def populate(sock_path: str) -> str:
    """Create containers up to CONTAINERS from busybox; return one container's ID for inspect."""
    status, body = call(sock_path, "GET", "/containers/json?all=1")
    existing = len(json.loads(body)) if status == 200 else 0
    for n in range(existing, CONTAINERS):
        status, body = call(
            sock_path, "POST", f"/containers/create?name=load{n}", {"Image": "busybox", "Cmd": ["true"]}
        )
        if status != 201:
            raise RuntimeError(f"create failed: {status} {body[:200]!r}")
    status, body = call(sock_path, "GET", "/containers/json?all=1")
    return json.loads(body)[0]["Id"]


def paths_for(container: str) -> list[bytes]:
    return [request("/_ping"), request("/v1.41/containers/json?all=1"), request(f"/v1.41/containers/{container}/json")]


def run(targets: dict[str, str], counts: list[int], seconds: float, rounds: int) -> dict[tuple[str, int], Tally]:
    paths = {name: paths_for(populate(path)) for name, path in targets.items()}
    results: dict[tuple[str, int], Tally] = {}
    for n in counts:
        for round_ in range(rounds):
            order = list(targets) if round_ % 2 == 0 else list(reversed(targets))
            for name in order:
                tally = asyncio.run(load(targets[name], paths[name], n, seconds))
                results.setdefault((name, n), Tally()).add(tally)
                print(
                    f"  {name:>10} N={n:<5} round {round_}: {len(tally.latencies) / tally.seconds:8.0f} req/s",
                    flush=True,
                )
    return results


def report(results: dict[tuple[str, int], Tally], targets: list[str], counts: list[int]) -> None:
    print(f"\n{'target':>10} {'N':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  vs {targets[0]}")
    for n in counts:
        base = results[(targets[0], n)]
        for name in targets:
            tally = results[(name, n)]
            rate = len(tally.latencies) / tally.seconds
            base_rate = len(base.latencies) / base.seconds
            versus = f"{rate / base_rate:5.2f}x rate, {tally.quantile(0.99) / base.quantile(0.99):5.2f}x p99"
            print(
                f"{name:>10} {n:5} {rate:8.0f} {tally.quantile(0.5) * 1000:8.1f} "
                f"{tally.quantile(0.99) * 1000:8.1f} {tally.errors:7}  {versus}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,16,256,1000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--target", action="append", default=[], help="name=socket path of a running daemon")
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]
    if args.target:
        targets = dict(t.split("=", 1) for t in args.target)
        report(run(targets, counts, args.seconds, args.rounds), list(targets), counts)
        return
    from bench.run import Dockerd
    from tests.e2e.daemon import BUSYBOX_ROOTFS, Daemon

    dockyard = Daemon(config={"bridge": "none"})
    dockerd = Dockerd() if shutil.which("dockerd") else None
    try:
        dockyard.start()
        dockyard.import_busybox()
        targets = {"dockyard": str(dockyard.socket)}
        if dockerd is not None:
            dockerd.start()
            rootfs = subprocess.run([str(BUSYBOX_ROOTFS)], check=True, capture_output=True).stdout
            dockerd.docker("import", "-", "busybox:latest", input=rootfs)
            targets = {"dockerd": str(dockerd.socket), **targets}
        report(run(targets, counts, args.seconds, args.rounds), list(targets), counts)
    finally:
        dockyard.cleanup()
        if dockerd is not None:
            dockerd.cleanup()


if __name__ == "__main__":
    main()
