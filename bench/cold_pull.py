"""The cold-pull workload of bench/all.py: `pull` of a multi-layer image through each CLI.

Every timed pull is of an image of its own: `make_image` variants (generated gzip layers of
many small files and a few large ones, alike in size and shape, no blob in common), pushed
to a docker-registry on loopback, which both engines treat as insecure. Nothing is removed
between the timed pulls; every image goes, untimed, once all rounds are done, after which
each engine must hold the images it held before (checked).

Why not one image pulled, removed and pulled again: this disk's ext4 has no journal, and
ext4 without one skips every inode freed in the last 60 s (300 s while its inode table block
is dirty) when it looks for a free one (`recently_deleted`). A pull right after `rmi` then
pays a scan over the inodes the removal freed, for every file it creates, in whichever block
groups the allocator picks: round after round both engines slowed (dockyard 4.4 -> 13.8 s,
dockerd 6.5 -> 17 s after dockyard's removals), each by where its files happened to land.
That measures the filesystem's inode reuse, not the engines (docs/decisions/0051).
bench/pull.py remains the in-process view of the same pull (dockyard's Puller without HTTP or CLI).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import SECONDS, Row, Settle, Target, interleave, run, timed
from pull import make_image  # also puts src/ on sys.path
from tests.distribution.conftest import start_registry

from dockyard.distribution.client import Registries
from dockyard.distribution.config import RegistryConfig
from dockyard.distribution.credentials import DockerConfigFile
from dockyard.distribution.pusher import Pusher
from dockyard.oci.reference import parse_reference


@dataclass(frozen=True, slots=True)
class Image:
    ref: str
    layers: int
    compressed: int  # bytes of gzip
    tar: int  # bytes of tar


@contextmanager
def served_images(work: Path, layers: int, size_mb: int, count: int) -> Iterator[list[Image]]:
    """Generate `count` images under `work`, serve them from a loopback registry, stop it afterwards."""
    registry = start_registry(work / "registry")
    try:
        pusher = Pusher(Registries(RegistryConfig(), DockerConfigFile(work / "docker.json")))
        images = []
        for variant in range(count):
            store, manifest, tar_bytes = make_image(work, layers, size_mb, variant)
            ref = f"{registry.address}/bench/big{variant}:v1"
            pusher.push(parse_reference(ref), manifest, store)
            shutil.rmtree(work / "source", ignore_errors=True)  # the registry has its own copy
            images.append(Image(ref, layers, sum(d.size for d in manifest.layers), tar_bytes))
        yield images
    finally:
        registry.stop()


def image_ids(target: Target) -> list[str]:
    """The images the engine holds (by ID; `system df` bytes would differ by the directories
    the pulls grew, which ext4 never shrinks)."""
    return sorted(run(target, "images", "-aq", "--no-trunc").stdout.split())


def cold_pull(targets: Sequence[Target], rounds: int, settle: Settle, images: Sequence[Image]) -> Row:
    """`rounds` interleaved pulls per target, each of an image no engine has seen (needs
    rounds * len(targets) images); every image is removed afterwards, untimed."""
    before = {t.key: image_ids(t) for t in targets}
    fresh = iter(images)
    pulled: dict[str, list[str]] = {t.key: [] for t in targets}

    def measure(target: Target) -> float:
        image = next(fresh)
        pulled[target.key].append(image.ref)
        return timed(settle, target, "pull", "-q", image.ref)

    try:
        samples = interleave(rounds, targets, measure)
    finally:
        for target in targets:
            if pulled[target.key]:
                run(target, "rmi", *pulled[target.key])
    for target in targets:
        if image_ids(target) != before[target.key]:
            raise RuntimeError(f"{target.key}: images left after the removals (the rounds: {samples})")
    image = images[0]
    return Row(
        f"cold pull, {image.layers} layers, {image.compressed / 1e6:.0f} MB gzip / {image.tar / 1e6:.0f} MB",
        SECONDS,
        samples,
        "≤ 0.5x at the median and in the worst round",
        note="every round listed below, each of an image of its own",
        worst=True,
    )
