"""Benchmark: dockyard's apply_layer against tarfile.extractall on a generated gzip layer.

    python bench/extract.py                  # ~48 MB layer, a few seconds
    python bench/extract.py --size-mb 333    # the size of the issue's image

The layer mixes many small files (1-32 KiB) with one in 500 large (1-16 MiB), of
compressible data (gzip about 3:1), like a distribution base image plus an application.
Rates are MB of uncompressed tar per second of wall time (best of --repeat, the order of
the runs alternating, with a sync before each so none pays for another's dirty pages).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import random
import shutil
import sys
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dockyard.archive import apply_layer  # noqa: E402


def generate(path: Path, size: int, seed: int = 7) -> int:
    """Write a gzip layer of about size uncompressed bytes; return the tar's size."""
    rng = random.Random(seed)
    words = [rng.randbytes(rng.randint(3, 12)) for _ in range(4096)]
    pool = b" ".join(rng.choice(words) for _ in range(600_000))
    written = 0
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        index = 0
        while written < size:
            directory = f"usr/lib/pkg{index // 200}/"
            big = rng.random() < 0.002
            length = rng.randint(1 << 20, 16 << 20) if big else rng.randint(1 << 10, 32 << 10)
            start = rng.randrange(0, len(pool) - min(length, len(pool) - 1))
            data = _slice(pool, start, length)
            info = tarfile.TarInfo(f"{directory}file{index}")
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
            written += len(data) + 512
            index += 1
    tar_bytes = raw.getvalue()
    path.write_bytes(gzip.compress(tar_bytes, compresslevel=6, mtime=0))
    return len(tar_bytes)


def _slice(pool: bytes, start: int, length: int) -> bytes:
    """length bytes of pool from start, wrapping around."""
    if start + length <= len(pool):
        return pool[start : start + length]
    return (pool[start:] + pool * (length // len(pool) + 1))[:length]


def timed(function) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--dir", help="where to extract (default: the system temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dockyard-bench-", dir=args.dir))
    try:
        layer = work / "layer.tar.gz"
        tar_size = generate(layer, args.size_mb << 20)
        print(f"layer: {tar_size / 1e6:.0f} MB tar, {layer.stat().st_size / 1e6:.0f} MB gzip")

        def inflate_and_hash() -> None:
            inflater, hasher = zlib.decompressobj(31), hashlib.sha256()
            with open(layer, "rb") as file:
                while chunk := file.read(1 << 18):
                    hasher.update(inflater.decompress(chunk))

        def run_tarfile() -> None:
            target = work / "tarfile"
            with tarfile.open(layer, "r:gz") as tar:
                tar.extractall(target, numeric_owner=True, filter="fully_trusted")

        def run_dockyard() -> None:
            target = work / "dockyard"
            target.mkdir()
            with open(layer, "rb") as file:
                apply_layer(file, target)

        runs = {
            "zlib inflate + sha256 (ceiling)": inflate_and_hash,
            "dockyard apply_layer": run_dockyard,
            "tarfile.extractall": run_tarfile,
        }
        best = dict.fromkeys(runs, (float("inf"), 0.0))
        for turn in range(args.repeat):
            for name in list(runs)[:: 1 if turn % 2 == 0 else -1]:  # alternate the order
                for leftover in ("tarfile", "dockyard"):
                    shutil.rmtree(work / leftover, ignore_errors=True)
                os.sync()  # so no run pays for the previous one's dirty pages
                best[name] = min(best[name], timed(runs[name]))
        for name, (wall, cpu) in best.items():
            print(f"{name:34} {tar_size / 1e6 / wall:7.1f} MB/s  ({wall:.2f} s wall, {cpu:.2f} s CPU)")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
