"""The snapshotter contract (after containerd core/snapshots/snapshotter.go).

Words: a *layer* is committed and read-only, named by its chain ID (`layers/<hex>/diff`);
a *key* names an active snapshot, a container's writable rootfs (`containers/<key>/upper`,
`work`, mounted at `containers/<key>/rootfs`); `parent` is the chain ID of the topmost
layer beneath it (None for an empty rootfs).

Importing an image of layers L1..Ln:
    for each layer: if not has_layer(chain_i): unpack(chain_i, chain_{i-1}, tar_stream)
or, extracting the layers side by side and publishing them bottom first (a pull):
    staged_i = stage(tar_i, diff_id_i) ... publish(staged_i, chain_i, chain_{i-1}) or discard(staged_i)
Running a container:
    mounts = prepare(key=container_id, parent=chain_n); mount(key) ... unmount(key); remove(key)
    (a container's record keeps chain_n, so its prepare need not be durable: at daemon start,
    repair(key, chain_n) puts back what a power loss took)
Looking at one (docker diff, inspect, exec, size): paths(key), which mounts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci.digest import Digest

# Docker's init layer: the mount points of the generated files, and /.dockerenv
INIT_FILES = ("etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv")


@dataclass(frozen=True, slots=True)
class Mount:
    """One mount(2) call: `mount -t type source target -o options`."""

    type: str
    source: str
    options: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class SnapshotPaths:
    """Where an active snapshot lives on the host: the only paths the engine may use."""

    rootfs: Path  # where mount() mounts it, mounted or not
    upper: Path  # its changes (overlay upperdir: whiteouts as 0/0 character devices)
    work: Path  # overlay's workdir (shown by docker inspect)
    lowers: tuple[Path, ...]  # the read-only layers beneath, topmost first


@dataclass(frozen=True, slots=True)
class LayerInfo:
    chain_id: Digest
    parent: Digest | None
    diff_id: Digest
    size: int  # bytes on disk, unpacked


@dataclass(frozen=True, slots=True)
class StagedLayer:
    """A layer extracted and checked but not yet published: nothing can see or use it."""

    diff_id: Digest  # sha256 of its uncompressed tar
    handle: object  # what the snapshotter that staged it needs to publish it


class DiffIdMismatch(InvalidArgument):
    """An unpacked layer's content is not the diff_id it was unpacked for."""

    def __init__(self, actual: Digest, expected: Digest) -> None:
        super().__init__(f"layer diff_id {actual} is not the expected {expected}")
        self.actual, self.expected = actual, expected


class Snapshotter(Protocol):
    def has_layer(self, chain_id: Digest) -> bool:
        """Whether the layer is committed."""

    def layer(self, chain_id: Digest) -> LayerInfo:
        """Raises NotFound."""

    def unpack(
        self, chain_id: Digest, parent: Digest | None, tar: BinaryIO, diff_id: Digest | None = None
    ) -> LayerInfo:
        """Apply one layer tar (plain, gzip or zstd; detected) into a new layer, atomically.

        The tar's uncompressed sha256 is the layer's diff_id; given `diff_id` (the image
        config's), the layer is published under `chain_id` only if they match, so no layer is
        ever visible before its content is checked. Nothing in the tar can reach outside the
        layer directory.
        Raises DiffIdMismatch, or InvalidArgument for a malformed or hostile tar (either way
        no layer is left behind).
        """

    def stage(self, tar: BinaryIO, diff_id: Digest | None = None) -> StagedLayer:
        """Extract one layer tar where nothing sees it, for publish() or discard().

        Needs no parent, so the layers of an image can be staged side by side, in any order.
        Raises as unpack() does, leaving nothing behind.
        """

    def publish(self, staged: StagedLayer, chain_id: Digest, parent: Digest | None) -> LayerInfo:
        """Publish a staged layer under `chain_id`, over `parent`, atomically (unpack's second half).

        The staged layer is used up, published or not. Raises NotFound when `parent` is not
        committed (the staged layer is then kept, for a later publish() or discard()).
        """

    def discard(self, staged: StagedLayer) -> None:
        """Throw a staged layer away (nothing if it was published or discarded already)."""

    def remove_layer(self, chain_id: Digest) -> None:
        """Delete a committed layer (nothing if absent). Raises Conflict while a layer or a
        snapshot is on it."""

    def list_layers(self) -> list[Digest]:
        """The chain IDs of every committed layer."""

    def prepare(self, key: str, parent: Digest | None, durable: bool = True) -> list[Mount]:
        """Create the writable snapshot `key` over `parent` and return how to mount it.

        A snapshot over a parent shows INIT_FILES as empty files (Docker's init layer): they
        are part of what it starts from, so they never appear in diff() unless written.
        With `durable` false the snapshot's own record of its parent is not synced: a power
        loss may lose it, and only a caller that keeps `parent` durably itself (a container's
        record) may ask for that, since it must repair() the snapshot at start-up.
        Raises Conflict if `key` exists, NotFound if `parent` does not.
        """

    def repair(self, key: str, parent: Digest | None) -> bool:
        """After a power loss: make snapshot `key` (prepared without `durable`) sit on `parent`
        again, as its owner's durable record says, and sync that. What is already right is
        kept (the snapshot's changes too); returns whether anything had to be rewritten.
        Raises NotFound if `parent` is not a committed layer.
        """

    def paths(self, key: str) -> SnapshotPaths:
        """The host paths of snapshot `key` (mounts nothing). Raises NotFound."""

    def mount(self, key: str) -> Path:
        """Mount the snapshot at containers/<key>/rootfs (idempotent); return that path."""

    def unmount(self, key: str) -> None:
        """Unmount if mounted (idempotent)."""

    def remove(self, key: str) -> None:
        """Unmount and delete the writable snapshot (idempotent)."""

    def diff(self, key: str, out: BinaryIO) -> None:
        """Write the snapshot's changes as an OCI layer tar (overlay whiteouts -> .wh. files).

        Raises NotFound.
        """

    def export(self, key: str, out: BinaryIO) -> None:
        """Write the snapshot's whole merged filesystem as a plain tar (docker export),
        mounting it for the while if it is not mounted."""


def unpack_by_stages(
    snapshots: Snapshotter, chain_id: Digest, parent: Digest | None, tar: BinaryIO, diff_id: Digest | None = None
) -> LayerInfo:
    """`unpack` as stage() then publish(); a missing parent or a present layer is found before
    anything is extracted."""
    if parent is not None and not snapshots.has_layer(parent):
        raise NotFound(f"layer does not exist: {parent}")
    if snapshots.has_layer(chain_id):
        return snapshots.layer(chain_id)
    return snapshots.publish(snapshots.stage(tar, diff_id), chain_id, parent)
