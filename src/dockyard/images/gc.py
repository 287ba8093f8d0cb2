"""Content garbage collection: blobs and layers that nothing references go.

    mark (pure)   roots -> the live blobs and layers
        image          its config, manifest and layer blobs, and every layer of its chain
        repo digest    the manifest or index a `name@digest` names
        push cache     the gzip twin of a live plain layer (CompressedLayers)
        container      the layers its snapshot sits on (passed in as `keep`)
        work           what pulls pin and loads, imports and commits lease
        a live layer's parents are live
    sweep         every blob and layer not marked is deleted, layers children first; ingest
                  files no writer has open; at start-up, everything under tmp/

It runs at daemon start (leftovers of a crash: blobs of half a pull, layers of an
unrecorded image, ingests, scratch), after `rmi`, on `image prune` (so `system prune`), and
after a load, import or commit fails. It holds the image service's lock, so no image is
recorded or removed meanwhile; a pull in flight is safe through its pins, a load, import,
commit, save or push through its lease (images/pins.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dockyard import faults
from dockyard.errors import Conflict, NotFound
from dockyard.images.compressed import CompressedLayers
from dockyard.images.service import ImageService
from dockyard.images.store import ImageRecord
from dockyard.oci.digest import Digest


@dataclass(frozen=True, slots=True)
class Roots:
    """What keeps content alive."""

    images: tuple[ImageRecord, ...]
    twins: tuple[tuple[Digest, Digest], ...] = ()  # (plain layer blob, its gzip twin)
    layers: frozenset[Digest] = frozenset()  # chain IDs containers sit on
    held: frozenset[str] = frozenset()  # pins and leases: blob digests and chain IDs


@dataclass(frozen=True, slots=True)
class Live:
    blobs: frozenset[Digest]
    layers: frozenset[Digest]


def mark(roots: Roots, parents: Mapping[Digest, Digest | None]) -> Live:
    """The blobs and layers `roots` keep; `parents` maps each layer on disk to its parent."""
    blobs: set[str] = set(roots.held)
    layers: set[str] = set(roots.held) | set(roots.layers)  # a held key may name either
    for image in roots.images:
        blobs.update((image.id, image.manifest_digest, *(layer.digest for layer in image.layers)))
        blobs.update(name.rpartition("@")[2] for name in image.repo_digests)
        layers.update(image.chain_ids)
    blobs.update(twin for source, twin in roots.twins if source in blobs)
    closed: set[str] = set()
    for chain in layers:
        while chain is not None and chain not in closed:
            closed.add(chain)
            chain = parents.get(Digest(chain))
    return Live(frozenset(Digest(b) for b in blobs), frozenset(Digest(c) for c in closed))


@dataclass(slots=True)
class Collected:
    """What one collection removed."""

    blobs: list[Digest] = field(default_factory=list)
    layers: list[Digest] = field(default_factory=list)
    reclaimed: int = 0  # bytes


class Collector:
    """Sweeps the image service's content store and snapshotter of what `mark` leaves out."""

    def __init__(self, images: ImageService, compressed: CompressedLayers | None = None, tmp: Path | None = None):
        self.images = images
        self.compressed = compressed
        self.tmp = tmp  # scratch space, emptied at start-up

    def roots(self, keep: Iterable[Digest] = ()) -> Roots:
        twins = tuple(self.compressed.twins()) if self.compressed else ()
        held = frozenset(self.images.pins.held() | self.images.leases.held())
        return Roots(tuple(self.images.all()), twins, frozenset(keep), held)

    def collect(self, keep: Iterable[Digest] = (), at_start: bool = False) -> Collected:
        """Delete what no root references; `keep` adds the layers containers use."""
        snapshots, content = self.images.snapshots, self.images.content
        done = Collected()
        with self.images.locked():
            layers = snapshots.list_layers()  # children first
            live = mark(self.roots(keep), {chain: snapshots.layer(chain).parent for chain in layers})
            for chain in layers:
                if chain not in live.layers and chain not in self.images.pins.held():
                    done.reclaimed += self._remove_layer(chain, done)
            for digest in list(content.list()):
                if digest not in live.blobs:
                    done.reclaimed += self._remove_blob(digest, done)
            content.clean_ingests()
        if at_start and self.tmp is not None:
            _empty(self.tmp)
        return done

    def _remove_layer(self, chain: Digest, done: Collected) -> int:
        size = self.images.snapshots.layer(chain).size
        try:
            self.images.snapshots.remove_layer(chain)
        except Conflict:
            return 0  # a container (of a force-removed image) still sits on it
        done.layers.append(chain)
        faults.point("gc.mid-sweep")
        return size

    def _remove_blob(self, digest: Digest, done: Collected) -> int:
        leases, content = self.images.leases, self.images.content
        with leases.guard:  # a blob leased after `roots()` was taken is spared
            if digest in leases.held() or digest in self.images.pins.held():
                return 0
            try:
                size = content.size(digest)
                content.delete(digest)
            except NotFound:
                return 0
        done.blobs.append(digest)
        return size


def _empty(directory: Path) -> None:
    """Remove everything in `directory` (start-up: no work is in progress yet)."""
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
