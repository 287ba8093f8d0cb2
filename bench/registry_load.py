"""256 concurrent pullers against dockyard's registry and Debian's docker-registry, interleaved.

    PYTHONPATH=src python bench/registry_load.py [--pullers 256] [--procs 8] [--seconds 10] [--rounds 3]

Each registry gets the same small image (config + `--layers` layers of `--layer-kib` KiB). A puller
is one keep-alive HTTP/1.1 connection that pulls in a loop: GET the manifest by tag, then GET the
config and every layer blob, reading each body to the end. Pullers run as asyncio coroutines spread
over `--procs` client processes (client threads would add their own scheduling delays to the tail). Per registry and round: requests/s, pulls/s, p50/p99 latency of one
request, and errors (a non-2xx, a short body or a broken connection). Rounds alternate which registry
goes first; traffic stays on 127.0.0.1 and every loop is bounded by `--seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_bench import _LENGTH, Conn, request, start_dockyard, start_reference  # noqa: E402

REPO = "bench/load"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def image(layers: int, layer_kib: int) -> tuple[bytes, list[bytes], bytes]:
    """Config, layers and the manifest that names them (deterministic bytes)."""
    blobs = [hashlib.sha256(str(i).encode()).digest() * (layer_kib * 32) for i in range(layers)]
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    config_bytes = config.encode()

    def descriptor(media_type: str, data: bytes) -> dict:
        return {"mediaType": media_type, "digest": sha(data), "size": len(data)}

    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.oci.image.config.v1+json", config_bytes),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", b) for b in blobs],
    }
    return config_bytes, blobs, json.dumps(manifest).encode()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push(port: int, config: bytes, layers: list[bytes], manifest: bytes) -> None:
    conn = Conn(port)
    for blob in (config, *layers):
        status, headers, _ = conn.exchange(request("POST", f"/v2/{REPO}/blobs/uploads/"))
        location = next(
            line.split(b": ", 1)[1].decode() for line in headers.split(b"\r\n") if line.lower().startswith(b"location:")
        )
        sep = "&" if "?" in location else "?"
        status, _, _ = conn.exchange(request("PUT", f"{location}{sep}digest={sha(blob)}", length=len(blob)), blob)
        assert status == 201, status
    head = request("PUT", f"/v2/{REPO}/manifests/v1", {"Content-Type": OCI_MANIFEST}, len(manifest))
    status, _, _ = conn.exchange(head, manifest)
    assert status == 201, status


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> tuple[int, int]:
    """One request on a keep-alive connection: its status and body length (the body is read and dropped)."""
    writer.write(head)
    headers = await reader.readuntil(b"\r\n\r\n")
    match = _LENGTH.search(headers)
    length = int(match.group(1)) if match else 0
    got = 0
    while got < length:
        chunk = await reader.read(min(1 << 20, length - got))
        if not chunk:
            raise ConnectionError("closed mid-body")
        got += len(chunk)
    return int(headers[9:12]), got


async def puller(port: int, paths: list[tuple[str, int]], until: float) -> tuple[list[float], int, int]:
    """Pull in a loop until `until`: (request latencies, pulls, errors)."""
    latencies, pulls, errors = [], 0, 0
    heads = [(request("GET", p, {"Accept": OCI_MANIFEST} if "/manifests/" in p else None), size) for p, size in paths]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.monotonic() < until:
        for head, size in heads:
            started = time.perf_counter()
            try:
                status, length = await exchange(reader, writer, head)
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies.append(time.perf_counter() - started)
            if status != 200 or length != size:
                errors += 1
        pulls += 1
    writer.close()
    return latencies, pulls, errors


def client_process(port: int, paths: list[tuple[str, int]], count: int, start: float, seconds: float, queue) -> None:
    """`count` pullers as coroutines of one event loop (no client threads to schedule)."""

    async def run() -> list:
        await asyncio.sleep(max(0.0, start - time.time()))
        until = time.monotonic() + seconds
        return await asyncio.gather(*(puller(port, paths, until) for _ in range(count)))

    queue.put(asyncio.run(run()))


def load(port: int, paths: list[tuple[str, int]], pullers: int, procs: int, seconds: float) -> dict:
    """Run `pullers` pullers for `seconds`; the figures of that run."""
    queue = multiprocessing.Queue()
    start = time.time() + 1.0  # every process starts its pullers at once
    per = [pullers // procs + (i < pullers % procs) for i in range(procs)]
    workers = [
        multiprocessing.Process(target=client_process, args=(port, paths, n, start, seconds, queue)) for n in per
    ]
    for worker in workers:
        worker.start()
    results = [item for _ in workers for item in queue.get(timeout=seconds + 120)]
    for worker in workers:
        worker.join()
    latencies = sorted(x for lat, _, _ in results for x in lat)
    requests = len(latencies)
    return {
        "requests_per_s": requests / seconds,
        "pulls_per_s": sum(p for _, p, _ in results) / seconds,
        "p50_ms": 1000 * latencies[requests // 2] if requests else None,
        "p99_ms": 1000 * latencies[int(requests * 0.99)] if requests else None,
        "errors": sum(e for _, _, e in results),
        "pullers": len(results),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pullers", type=int, default=256)
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--layer-kib", type=int, default=64)
    args = parser.parse_args()
    config, layers, manifest = image(args.layers, args.layer_kib)
    paths = [(f"/v2/{REPO}/manifests/v1", len(manifest)), (f"/v2/{REPO}/blobs/{sha(config)}", len(config))]
    paths += [(f"/v2/{REPO}/blobs/{sha(b)}", len(b)) for b in layers]
    figures: dict[str, list[dict]] = {"dockyard": [], "reference": []}
    with tempfile.TemporaryDirectory(prefix="registry-load-") as tmp:
        root = Path(tmp)
        servers = {"dockyard": start_dockyard(root), "reference": start_reference(root)}
        try:
            for server in servers.values():
                push(server.port, config, layers, manifest)
            for round_ in range(args.rounds):
                order = ["dockyard", "reference"] if round_ % 2 == 0 else ["reference", "dockyard"]
                for name in order:
                    result = load(servers[name].port, paths, args.pullers, args.procs, args.seconds)
                    figures[name].append(result)
                    print(f"round {round_ + 1} {name:9} {json.dumps(result)}", flush=True)
        finally:
            for server in servers.values():
                server.terminate()
                server.wait(10)
    summary = {}
    for name, runs in figures.items():
        summary[name] = {
            "requests_per_s": statistics.median(r["requests_per_s"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs if r["p99_ms"] is not None),
            "errors": sum(r["errors"] for r in runs),
        }
    print(json.dumps({"pullers": args.pullers, "median_of_rounds": summary}, indent=2))
    return 0 if all(s["errors"] == 0 for s in summary.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
