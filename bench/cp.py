"""Benchmark: `cp` into and out of a container, dockyard vs the reference dockerd.

    python bench/cp.py                      # 3 rounds of each case
    python bench/cp.py --rounds 5 --big-mb 1024 --files 10000

Cases: a directory of --files small files (100 B - 4 KiB) and one --big-mb file, each copied
into a running busybox container and back out, with the real docker CLI against both daemons
(so the client is the same and only the daemons differ). The daemons run side by side; the
runs are interleaved (dockyard first in even rounds, dockerd first in odd ones), each after a
sync, and the figure reported is the median wall time of the rounds, with MB/s of file data.
Needs root, the `docker` CLI and Debian's dockerd (tests/e2e/reference.py).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.daemon import BUSYBOX_ROOTFS, Daemon  # noqa: E402
from tests.e2e.reference import ReferenceDockerd  # noqa: E402


def make_tree(root: Path, files: int, seed: int = 11) -> int:
    """files small files in 100 subdirectories; returns their total bytes."""
    rng, total = random.Random(seed), 0
    for index in range(files):
        directory = root / f"d{index % 100}"
        directory.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(rng.randint(100, 4096))
        (directory / f"f{index}").write_bytes(data)
        total += len(data)
    return total


def make_big(path: Path, size: int) -> int:
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as out:
        for _ in range(size >> 20):
            out.write(chunk)
    return size


class Engine:
    """One daemon driven through the real docker CLI, with a container to copy into and out of."""

    def __init__(self, name: str, docker) -> None:
        self.name, self.docker = name, docker
        self.container = f"cpbench-{os.getpid()}"

    def setup(self) -> None:
        self.docker("run", "-d", "--name", self.container, "busybox", "sleep", "3600")

    def timed(self, *args: str) -> float:
        subprocess.run(["sync"], check=True)
        started = time.perf_counter()
        self.docker(*args, timeout=1800)
        return time.perf_counter() - started

    def teardown(self) -> None:
        self.docker("rm", "-f", self.container, check=False)


def run_case(engine: Engine, source: Path, work: Path, run: str) -> tuple[float, float]:
    """Seconds to copy source in, then back out, to destinations named after `run`."""
    inward = engine.timed("cp", str(source), f"{engine.container}:/{run}")
    outward = engine.timed("cp", f"{engine.container}:/{run}", str(work / f"out-{engine.name}-{run}"))
    return inward, outward


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--big-mb", type=int, default=1024)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cpbench-", dir="/var/tmp"))
    cases = {"tree": work / "tree", "big": work / "big.bin"}
    sizes = {"tree": make_tree(cases["tree"], args.files), "big": make_big(cases["big"], args.big_mb << 20)}
    ours, reference = Daemon(), ReferenceDockerd()
    engines: list[Engine] = []
    try:
        ours.start().import_busybox()
        reference.start()
        rootfs = subprocess.run([str(BUSYBOX_ROOTFS)], check=True, capture_output=True).stdout
        reference.docker("import", "-", "busybox:latest", input=rootfs)
        engines = [Engine("dockyard", ours.docker), Engine("dockerd", reference.docker)]
        for engine in engines:
            engine.setup()
        times: dict[tuple[str, str, str], list[float]] = {}
        for round_ in range(args.rounds):
            for case, source in cases.items():
                for engine in engines if round_ % 2 == 0 else engines[::-1]:
                    inward, outward = run_case(engine, source, work, f"{case}{round_}")
                    times.setdefault((case, "in", engine.name), []).append(inward)
                    times.setdefault((case, "out", engine.name), []).append(outward)
        report(times, sizes, args)
    finally:
        for engine in engines:
            engine.teardown()
        reference.stop()
        ours.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(times: dict, sizes: dict, args) -> None:
    print(f"cp benchmark: {args.rounds} rounds, interleaved; median wall seconds (MB/s of file data)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    print(f"{'case':<34}{'dockyard':>20}{'dockerd':>20}")
    labels = {"tree": f"{args.files} small files", "big": f"one {args.big_mb} MiB file"}
    for case in ("tree", "big"):
        for direction in ("in", "out"):
            cells = []
            for name in ("dockyard", "dockerd"):
                median = statistics.median(times[(case, direction, name)])
                cells.append(f"{median:8.2f}s ({sizes[case] / median / 1e6:6.1f})")
            print(f"{labels[case] + ' ' + direction:<34}{cells[0]:>20}{cells[1]:>20}")


if __name__ == "__main__":
    sys.exit(main())
