"""The cold-pull workload of bench/all.py: `pull` of a multi-layer image through each CLI.

The image is bench/pull.py's (`make_image`: generated gzip layers of many small files and a
few large ones), pushed once to a docker-registry on loopback, which both engines treat as
insecure. Each round: settle, time `pull -q <ref>`, then `rmi <ref>` untimed, after which the
engine must hold no layer of it (checked), so every timed pull starts cold. bench/pull.py
remains the in-process view of the same pull (dockyard's Puller without HTTP or CLI).
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
def served_image(work: Path, layers: int, size_mb: int) -> Iterator[Image]:
    """Generate the image under `work`, serve it from a loopback registry, stop it afterwards."""
    store, manifest, tar_bytes = make_image(work, layers, size_mb)
    registry = start_registry(work / "registry")
    try:
        ref = f"{registry.address}/bench/big:v1"
        Pusher(Registries(RegistryConfig(), DockerConfigFile(work / "docker.json"))).push(
            parse_reference(ref), manifest, store
        )
        shutil.rmtree(work / "source", ignore_errors=True)  # the registry has its own copy
        yield Image(ref, layers, sum(d.size for d in manifest.layers), tar_bytes)
    finally:
        registry.stop()


def image_bytes(target: Target) -> str:
    """What `system df` says the engine's images take."""
    return run(target, "system", "df", "--format", "{{.Type}} {{.Size}}").stdout.splitlines()[0]


def cold_pull(targets: Sequence[Target], rounds: int, settle: Settle, image: Image) -> Row:
    before = {t.key: image_bytes(t) for t in targets}

    def measure(target: Target) -> float:
        elapsed = timed(settle, target, "pull", "-q", image.ref)
        run(target, "rmi", image.ref)
        if image_bytes(target) != before[target.key]:
            raise RuntimeError(f"{target.key}: not cold after rmi: {image_bytes(target)}, was {before[target.key]}")
        return elapsed

    samples = interleave(rounds, targets, measure)
    return Row(
        f"cold pull, {image.layers} layers, {image.compressed / 1e6:.0f} MB gzip / {image.tar / 1e6:.0f} MB",
        SECONDS,
        samples,
        "≤ 0.5x at the median and in the worst round",
        note="every round listed below",
        worst=True,
    )
