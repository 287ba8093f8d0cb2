"""Benchmark: a cold pull of a multi-layer image from a local docker-registry, dockyard vs dockerd.

    python bench/pull.py                          # 8 layers, ~330 MB of tar, 3 interleaved rounds
    python bench/pull.py --size-mb 100 --rounds 1

Generates one image per round (bench/extract.py's layer generator: many small files and a few
large ones, compressible about 3:1 ... 1.7:1; the images alike in size and shape, no blob in
common), pushes them to a docker-registry on loopback, then pulls round k's image from cold
into each engine, interleaved: dockyard (images.pull.Puller on a fresh data root, in process:
the same code the daemon runs) and, when Debian's dockerd is installed, dockerd on its own
data root. Nothing is removed until every round is done: on a journal-less ext4, a pull right
after a removal pays a scan over the inodes just freed (docs/decisions/0051), which would
measure the filesystem rather than the engines.
The floor is one thread of sha256 over the compressed blobs plus gunzip over them.
Before every timed pull: `sync`, then wait (up to --settle-cap s) until Dirty and Writeback in
/proc/meminfo have drained, so no round pays for the writeback an earlier one left. Every
round is printed, then median, min and max per engine and their ratios.
Every process this starts is stopped by PID; every directory it makes is removed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from zlib_ng import zlib_ng

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO), str(REPO / "bench")]

from extract import generate  # noqa: E402
from tests.distribution.conftest import start_registry  # noqa: E402

from dockyard.content.local import LocalContentStore  # noqa: E402
from dockyard.distribution.client import Registries  # noqa: E402
from dockyard.distribution.config import RegistryConfig  # noqa: E402
from dockyard.distribution.credentials import DockerConfigFile  # noqa: E402
from dockyard.distribution.pusher import Pusher  # noqa: E402
from dockyard.images.pull import Puller  # noqa: E402
from dockyard.images.service import ImageService  # noqa: E402
from dockyard.images.store import ImageStore  # noqa: E402
from dockyard.metadata.db import Database  # noqa: E402
from dockyard.oci import mediatypes as mt  # noqa: E402
from dockyard.oci.descriptor import Descriptor  # noqa: E402
from dockyard.oci.digest import Digest  # noqa: E402
from dockyard.oci.manifest import Manifest  # noqa: E402
from dockyard.oci.reference import parse_reference  # noqa: E402
from dockyard.paths import DataRoot  # noqa: E402
from dockyard.snapshots.overlay import OverlaySnapshotter  # noqa: E402

DOCKER = shutil.which("docker") or "/usr/local/bin/docker"
DOCKERD = shutil.which("dockerd")


def make_image(work: Path, layers: int, size_mb: int, variant: int = 0) -> tuple[LocalContentStore, Manifest, int]:
    """Generate `layers` gzip layers of size_mb/layers MB of tar each; return store, manifest, tar bytes.

    Each `variant` has layers of its own (no blob in common with another variant), alike in size and shape."""
    store = LocalContentStore(DataRoot(work / "source"))
    descriptors, diff_ids, total = [], [], 0
    for i in range(layers):
        path = work / f"layer{i}.tar.gz"
        total += generate(path, (size_mb << 20) // layers, seed=variant * layers + i + 1)
        blob = path.read_bytes()
        diff_ids.append(str(Digest.from_hex(hashlib.sha256(zlib.decompress(blob, 31)).hexdigest())))
        descriptors.append(Descriptor(mt.DOCKER_LAYER_GZIP, store.write_blob(blob), len(blob)))
        path.unlink()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    ).encode()
    manifest = Manifest(
        mt.DOCKER_MANIFEST, Descriptor(mt.DOCKER_CONFIG, store.write_blob(config), len(config)), tuple(descriptors)
    )
    return store, manifest, total


def floor(store: LocalContentStore, manifest: Manifest) -> tuple[float, float]:
    """Seconds for one thread to sha256 every blob, and to gunzip every blob (with zlib-ng, as a pull does)."""
    blobs = [store.path(d.digest).read_bytes() for d in manifest.layers]
    start = time.perf_counter()
    for blob in blobs:
        hashlib.sha256(blob).hexdigest()
    hashing = time.perf_counter() - start
    start = time.perf_counter()
    for blob in blobs:
        decompressor = zlib_ng.decompressobj(31)  # what the engine reads gzip with
        for offset in range(0, len(blob), 1 << 20):
            decompressor.decompress(blob[offset : offset + (1 << 20)], 1 << 30)
    return hashing, time.perf_counter() - start


DRAINED_KB = 4096


def dirty_kb() -> int:
    """Dirty + Writeback from /proc/meminfo, in kB."""
    with open("/proc/meminfo") as f:
        fields = dict(line.split(":", 1) for line in f)
    return sum(int(fields[name].split()[0]) for name in ("Dirty", "Writeback"))


def settle(cap: float) -> float:
    """`sync`, then wait until Dirty + Writeback drop below DRAINED_KB or `cap` s pass; the seconds waited."""
    start = time.monotonic()
    subprocess.run(["sync"])
    while dirty_kb() > DRAINED_KB and time.monotonic() - start < cap:
        time.sleep(0.1)
    return time.monotonic() - start


def pull_dockyard(work: Path, ref: str, registries: Registries, cap: float) -> float:
    """Pull into a data root of its own, kept (under work) until the run ends; the seconds taken."""
    root = DataRoot(Path(tempfile.mkdtemp(prefix="dy-pull-", dir=work)))
    root.create()
    db = Database(root.database)
    service = ImageService(ImageStore(db), LocalContentStore(root), OverlaySnapshotter(root))
    puller = Puller(service, registries)
    settle(cap)
    start = time.perf_counter()
    puller.pull(puller.resolve(parse_reference(ref)))
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


class Dockerd:
    """Debian's dockerd on its own roots and socket, without bridge or iptables."""

    def __init__(self, work: Path, registry: str) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="dockerd-", dir=work))
        self.host = f"unix://{self.base}/docker.sock"
        log = open(self.base / "dockerd.log", "wb")
        self.process = subprocess.Popen(
            [
                DOCKERD,
                "--data-root",
                str(self.base / "data"),
                "--exec-root",
                str(self.base / "exec"),
                "-H",
                self.host,
                "--pidfile",
                str(self.base / "docker.pid"),
                "--bridge=none",
                "--iptables=false",
                "--ip-masq=false",
                "--insecure-registry",
                registry,
                "--storage-driver",
                "overlay2",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while self.docker("version", check=False).returncode != 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError((self.base / "dockerd.log").read_text()[-2000:])
            time.sleep(0.5)

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "DOCKER_HOST": self.host, "DOCKER_CONFIG": str(self.base / "cfg")}
        return subprocess.run([DOCKER, *args], env=env, capture_output=True, text=True, check=check)

    def pull(self, ref: str, cap: float) -> float:
        settle(cap)
        start = time.perf_counter()
        self.docker("pull", "-q", ref)
        return time.perf_counter() - start

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f if line.split()[4].startswith(str(self.base) + "/")]
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def summarize(engine: str, seconds: list[float], tar_mb: float) -> None:
    rounds = " ".join(f"{s:.2f}" for s in seconds)
    median = statistics.median(seconds)
    print(
        f"{engine}: median {median:.2f} s ({tar_mb / median:.0f} MB/s of tar), "
        f"min {min(seconds):.2f}, max {max(seconds):.2f}; rounds {rounds}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--size-mb", type=int, default=330, help="MB of tar, all layers together")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle-cap", type=float, default=60, help="most seconds to wait for writeback")
    parser.add_argument("--dir", default="/var/tmp", help="where registry, data roots and dockerd live")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pull-", dir=args.dir))
    registry = dockerd = None
    try:
        registry = start_registry(work / "registry")
        registries = Registries(RegistryConfig(), DockerConfigFile(work / "docker.json"))
        refs = []
        for variant in range(args.rounds):
            store, manifest, tar_bytes = make_image(work, args.layers, args.size_mb, variant)
            refs.append(f"{registry.address}/bench/big{variant}:v1")
            Pusher(registries).push(parse_reference(refs[-1]), manifest, store)
            if variant == 0:
                compressed = sum(d.size for d in manifest.layers)
                hashing, inflating = floor(store, manifest)
            shutil.rmtree(work / "source", ignore_errors=True)  # the registry has its own copy
        mb, tar_mb = compressed / 1e6, tar_bytes / 1e6
        print(f"images: {args.rounds} of {args.layers} layers, {mb:.0f} MB compressed, {tar_mb:.0f} MB of tar")
        print(
            f"floor (1 thread): sha256 {mb / hashing:.0f} MB/s, gunzip {tar_mb / inflating:.0f} MB/s of tar, "
            f"both {hashing + inflating:.2f} s"
        )
        dockerd = Dockerd(work, registry.address) if DOCKERD else None
        ours, theirs = [], []
        for round_ in range(args.rounds):
            order = ["dockyard", "dockerd"] if round_ % 2 == 0 else ["dockerd", "dockyard"]
            for engine in order:
                if engine == "dockyard":
                    ours.append(pull_dockyard(work, refs[round_], registries, args.settle_cap))
                elif dockerd:
                    theirs.append(dockerd.pull(refs[round_], args.settle_cap))
            line = f"round {round_ + 1}: dockyard {ours[-1]:.2f} s ({tar_mb / ours[-1]:.0f} MB/s of tar)"
            if theirs:
                line += (
                    f", dockerd {theirs[-1]:.2f} s ({tar_mb / theirs[-1]:.0f} MB/s), ratio {ours[-1] / theirs[-1]:.2f}"
                )
            print(line, flush=True)
        summarize("dockyard", ours, tar_mb)
        if theirs:
            summarize("dockerd", theirs, tar_mb)
            print(
                f"dockyard/dockerd: median {statistics.median(ours) / statistics.median(theirs):.2f}x, "
                f"worst round {max(ours) / max(theirs):.2f}x (<1: dockyard faster)"
            )
    finally:
        if dockerd:
            dockerd.stop()
        if registry:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
