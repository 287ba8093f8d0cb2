"""The overlayfs snapshotter: layers as read-only lowerdirs, containers as overlay mounts.

    layers/<chain-hex>/diff       the unpacked layer (whiteouts in overlay form)
    layers/<chain-hex>/parent     chain ID of the layer beneath ("" for a base layer)
    layers/<chain-hex>/diff_id    sha256 of the uncompressed tar
    layers/<chain-hex>/size       bytes of file data unpacked
    layers/l/<short>              -> ../<chain-hex>/diff, 26 characters, keeps mount options short
    containers/<key>/upper work   overlay upperdir and workdir
    init-layer/                   the init layer: empty mount points for the generated files
    containers/<key>/rootfs       mount point
    containers/<key>/parent       the snapshot's parent chain ID ("" for an empty rootfs); unsynced
                                  when prepared so, repair() rewrites it from its owner's record

A layer appears under layers/ by one rename of a finished scratch dir from tmp/, and only
once its diff_id is the one asked for, so a crash or a lying registry never leaves half a
layer or a wrong one under a chain ID. mount() calls mount(2) itself with absolute `layers/l/<short>`
lowerdirs while the options fit in the one page the kernel reads them from; a taller image
is mounted by `mount` run in layers/ with relative `l/<short>` lowerdirs (as docker's
overlay2 does), so ~140 layers fit. A snapshot with no parent is a bind mount of its upper
dir (overlay needs a lowerdir), as containerd's overlay snapshotter does, also by `mount`.
paths(key) hands these paths to the engine, which never builds them itself.

The init layer is the topmost lowerdir, as Docker's overlay2 `<id>-init`: it holds the empty
files the runtime bind-mounts /etc/hosts, /etc/hostname and /etc/resolv.conf onto, and
/.dockerenv, so those never land in the upper dir and never show in diff or commit. Its
content is the same for every container, so one read-only `init-layer/` serves them all
(made at start-up; a container's own `init/`, from before, is no longer read): a create
makes three directories and a file, not four more files and two directories.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dockyard import atomic, faults
from dockyard.archive import apply_layer, write_diff, write_tar
from dockyard.errors import Conflict, InvalidArgument, NoSpace, NotFound, NotSupported, RuntimeFailure
from dockyard.libc import LIBC, errno_message
from dockyard.oci.digest import Digest
from dockyard.paths import DataRoot
from dockyard.snapshots.durable import make_durable, sync_directories
from dockyard.snapshots.mountinfo import is_mounted
from dockyard.snapshots.snapshotter import (
    INIT_FILES,
    DiffIdMismatch,
    LayerInfo,
    Mount,
    SnapshotPaths,
    StagedLayer,
    unpack_by_stages,
)

SHORT_LEN = 26
MAX_LAYERS = 500  # overlayfs's own limit on lowerdirs
OVERLAY_OPTIONS = ("index=off", "redirect_dir=off", "metacopy=off")  # diffs stay plain files
_SCRATCH_PREFIX = "layer-"


@dataclass(frozen=True, slots=True)
class _Scratch:
    """A staged layer: its dir under tmp/ (diff/, diff_id, size) and the bytes of file data in it."""

    path: Path
    size: int


def short_name(chain_id: Digest) -> str:
    """The name of the layer's link under layers/l/: base32 of the digest, 26 characters."""
    return base64.b32encode(bytes.fromhex(chain_id.hex)).decode()[:SHORT_LEN]


class OverlaySnapshotter:
    """Snapshotter (dockyard.snapshots.snapshotter) over overlayfs, in the data root's layout."""

    def __init__(self, root: DataRoot) -> None:
        self._root = root
        self._links = root.layers / "l"
        self._lowers: dict[tuple[Digest, bool], str] = {}  # (top layer, absolute) -> lowerdir value
        for path in (root.layers, self._links, root.containers, root.tmp):
            path.mkdir(parents=True, exist_ok=True)
        for stale in root.tmp.glob(_SCRATCH_PREFIX + "*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a crash mid-unpack
        _make_init(root.init_layer)  # made again at each start: what a power loss took comes back

    # -- layers -------------------------------------------------------------------------

    def _layer_dir(self, chain_id: Digest) -> Path:
        return self._root.layers / Digest(chain_id).hex

    def has_layer(self, chain_id: Digest) -> bool:
        return self._layer_dir(chain_id).is_dir()

    def layer(self, chain_id: Digest) -> LayerInfo:
        """Raises NotFound."""
        directory = self._layer_dir(chain_id)
        try:
            parent = (directory / "parent").read_text()
            diff_id = (directory / "diff_id").read_text()
            size = int((directory / "size").read_text())
        except FileNotFoundError:
            raise NotFound(f"layer does not exist: {chain_id}") from None
        return LayerInfo(Digest(chain_id), Digest(parent) if parent else None, Digest(diff_id), size)

    def unpack(
        self, chain_id: Digest, parent: Digest | None, tar: BinaryIO, diff_id: Digest | None = None
    ) -> LayerInfo:
        """Apply one layer tar into layers/<chain-hex>, atomically, once its diff_id checks (see the contract)."""
        return unpack_by_stages(self, chain_id, parent, tar, diff_id)

    def stage(self, tar: BinaryIO, diff_id: Digest | None = None) -> StagedLayer:
        """Apply one layer tar into a scratch dir under tmp/ (see the contract)."""
        with NoSpace.translating(self._root.tmp):
            scratch = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX, dir=self._root.tmp))
        try:
            with NoSpace.translating(scratch):
                (scratch / "diff").mkdir()
                actual, size = apply_layer(tar, scratch / "diff")
                if diff_id is not None and actual != diff_id:
                    raise DiffIdMismatch(Digest(actual), Digest(diff_id))
                (scratch / "diff_id").write_text(actual)
                (scratch / "size").write_text(str(size))
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return StagedLayer(Digest(actual), _Scratch(scratch, size))

    def publish(self, staged: StagedLayer, chain_id: Digest, parent: Digest | None) -> LayerInfo:
        """Move a staged layer to layers/<chain-hex> once it is whole on disk (see the contract)."""
        if parent is not None and not self.has_layer(parent):
            raise NotFound(f"layer does not exist: {parent}")
        assert isinstance(staged.handle, _Scratch)
        scratch = staged.handle.path
        try:
            if self.has_layer(chain_id):
                return self.layer(chain_id)
            faults.point("unpack.before-publish")
            with NoSpace.translating(scratch):
                (scratch / "parent").write_text(parent or "")
            make_durable(scratch, staged.handle.size)  # the layer is whole on disk before its name appears (0121)
            self._link(chain_id)
            try:
                os.rename(scratch, self._layer_dir(chain_id))
            except OSError:
                if not self.has_layer(chain_id):
                    raise
                # another unpack of the same layer won the race; its copy is as good
            sync_directories(self._links, self._layer_dir(chain_id).parent)  # the names too
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return self.layer(chain_id)

    def discard(self, staged: StagedLayer) -> None:
        assert isinstance(staged.handle, _Scratch)
        shutil.rmtree(staged.handle.path, ignore_errors=True)

    def _link(self, chain_id: Digest) -> None:
        link = self._links / short_name(chain_id)
        target = f"../{Digest(chain_id).hex}/diff"
        try:
            os.symlink(target, link)
        except FileExistsError:
            if os.readlink(link) != target:
                raise Conflict(f"layer link {link.name} is taken by another layer") from None

    def remove_layer(self, chain_id: Digest) -> None:
        """Delete a layer (nothing if absent). Raises Conflict while a layer or snapshot is on it."""
        if not self.has_layer(chain_id):
            return
        for child in self._root.layers.glob("*/parent"):
            if child.read_text() == chain_id:
                raise Conflict(f"layer {chain_id} is in use by layer {child.parent.name}")
        for child in self._root.containers.glob("*/parent"):
            if child.read_text() == chain_id:
                raise Conflict(f"layer {chain_id} is in use by container {child.parent.name}")
        doomed = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX, dir=self._root.tmp))
        os.rename(self._layer_dir(chain_id), doomed / "layer")
        for absolute in (True, False):
            self._lowers.pop((chain_id, absolute), None)
        (self._links / short_name(chain_id)).unlink(missing_ok=True)
        shutil.rmtree(doomed)

    def list_layers(self) -> list[Digest]:
        """Every committed layer's chain ID, children before their parents.

        Removing in this order never meets the Conflict of a layer still under another.
        """
        names = (path.name for path in self._root.layers.iterdir() if path.name != self._links.name)
        layers = [Digest.from_hex(name) for name in names]
        return sorted(layers, key=lambda layer: (-len(self._chain(layer)), layer))

    def _chain(self, parent: Digest | None) -> list[Digest]:
        """parent and every layer beneath it, top first."""
        chain: list[Digest] = []
        while parent is not None:
            if len(chain) >= MAX_LAYERS:
                raise NotSupported(f"more than {MAX_LAYERS} layers")
            chain.append(parent)
            parent = self.layer(parent).parent
        return chain

    # -- snapshots ----------------------------------------------------------------------

    def _snapshot_dir(self, key: str) -> Path:
        if not key or "/" in key or key in (".", "..") or "\0" in key:
            raise InvalidArgument(f"invalid snapshot key {key!r}")
        return self._root.container(key)

    def _parent_of(self, key: str) -> Digest | None:
        try:
            text = (self._snapshot_dir(key) / "parent").read_text()
        except FileNotFoundError:
            raise NotFound(f"snapshot {key} does not exist") from None
        return Digest(text) if text else None

    def prepare(self, key: str, parent: Digest | None, durable: bool = True) -> list[Mount]:
        """Create containers/<key>/{upper,work,rootfs} over parent; return its mount."""
        directory = self._snapshot_dir(key)
        if (directory / "parent").exists():
            raise Conflict(f"snapshot {key} already exists")
        if parent is not None and not self.has_layer(parent):
            raise NotFound(f"layer does not exist: {parent}")
        self._make_snapshot(directory, parent)
        # written last: the snapshot now exists (unsynced, it may be missing, empty or cut short after a power loss)
        atomic.write_text(directory / "parent", parent or "", durable=durable)
        return [self._mount_of(key, parent, absolute=True)]

    def repair(self, key: str, parent: Digest | None) -> bool:
        """Rewrite containers/<key>/parent durably (and any directory missing) unless it already names `parent`."""
        directory = self._snapshot_dir(key)
        try:
            if (directory / "parent").read_text() == (parent or ""):
                return False
        except (FileNotFoundError, UnicodeDecodeError):
            pass  # missing, or garbage where the data never reached the disk
        if parent is not None and not self.has_layer(parent):
            raise NotFound(f"layer does not exist: {parent}")
        directory.mkdir(mode=0o700, exist_ok=True)  # private, as the engine makes it (paths.py)
        self._make_snapshot(directory, parent)
        atomic.write_text(directory / "parent", parent or "")
        return True

    def _make_snapshot(self, directory: Path, parent: Digest | None) -> None:
        """A snapshot's directories (what exists is kept): the upper, work and mount point."""
        for name in ("upper", "work", "rootfs"):
            (directory / name).mkdir(parents=True, exist_ok=True)

    def _mount_of(self, key: str, parent: Digest | None, absolute: bool) -> Mount:
        directory = self._snapshot_dir(key)
        if parent is None:
            return Mount("bind", str(directory / "upper"), ("rbind", "rw"))
        options = (
            f"lowerdir={self._lowerdir(parent, absolute)}",
            f"upperdir={directory / 'upper'}",
            f"workdir={directory / 'work'}",
            *OVERLAY_OPTIONS,
        )
        return Mount("overlay", "overlay", options)

    def _lowerdir(self, parent: Digest, absolute: bool) -> str:
        """The shared init layer, then the link of parent and of each layer beneath it: kept
        per layer while it exists (a chain ID fixes its ancestry), read once."""
        lower = self._lowers.get((parent, absolute))
        if lower is None or not self.has_layer(parent):
            links = self._links if absolute else Path(self._links.name)
            chain = self._chain(parent)  # NotFound for a layer gone
            lower = ":".join([str(self._root.init_layer), *(str(links / short_name(layer)) for layer in chain)])
            self._lowers[(parent, absolute)] = lower
        return lower

    def paths(self, key: str) -> SnapshotPaths:
        """containers/<key>/{rootfs,upper,work} and the layers' diff dirs. Raises NotFound."""
        directory = self._snapshot_dir(key)
        lowers = tuple(self._layer_dir(layer) / "diff" for layer in self._chain(self._parent_of(key)))
        return SnapshotPaths(directory / "rootfs", directory / "upper", directory / "work", lowers)

    def mount(self, key: str) -> Path:
        """Mount the snapshot at containers/<key>/rootfs (idempotent); return that path."""
        target = self._snapshot_dir(key) / "rootfs"
        if is_mounted(target):
            return target
        parent = self._parent_of(key)
        direct = self._mount_of(key, parent, absolute=True)
        options = ",".join(direct.options)
        if direct.type == "overlay" and len(options) < os.sysconf("SC_PAGESIZE"):
            _syscall(
                LIBC.mount, f"mount {target}", b"overlay", str(target).encode(), b"overlay", 0, options.encode()
            )  # mount(2) itself: no mount(8) process on the start path
            return target
        mount = self._mount_of(key, parent, absolute=False)  # tall images: relative lowerdirs
        options = ",".join(mount.options)
        if len(options) >= os.sysconf("SC_PAGESIZE"):
            raise NotSupported(f"too many layers to mount ({len(options)} bytes of options)")
        command = ["mount", "-t", mount.type, "-o", options, mount.source, str(target)]
        _run(command, cwd=self._root.layers)  # cwd is the child's: the daemon's threads are untouched
        return target

    def unmount(self, key: str) -> None:
        """Unmount if mounted (idempotent); lazily if the mount is busy."""
        target = self._snapshot_dir(key) / "rootfs"
        if not is_mounted(target):
            return
        if LIBC.umount2(str(target).encode(), 0) != 0:
            _syscall(LIBC.umount2, f"umount {target}", str(target).encode(), MNT_DETACH)

    def remove(self, key: str) -> None:
        """Unmount and delete the writable snapshot (idempotent)."""
        directory = self._snapshot_dir(key)
        self.unmount(key)
        if (directory / "rootfs").exists():
            (directory / "rootfs").rmdir()  # rmdir, never rmtree: a mount point
        for name in ("upper", "work", "init"):  # init/: a container's own, made before init-layer/
            shutil.rmtree(directory / name, ignore_errors=True)
        for path in (directory / "parent", *map(Path, atomic.leftovers(directory / "parent"))):
            path.unlink(missing_ok=True)
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()

    def diff(self, key: str, out: BinaryIO) -> None:
        """Write the snapshot's changes as an OCI layer tar."""
        self._parent_of(key)
        write_diff(self._snapshot_dir(key) / "upper", out)

    def export(self, key: str, out: BinaryIO) -> None:
        """Write the merged filesystem as a plain tar, mounting it for the while if needed."""
        target = self._snapshot_dir(key) / "rootfs"
        was_mounted = is_mounted(target)
        self.mount(key)
        try:
            write_tar(target, out)
        finally:
            if not was_mounted:
                self.unmount(key)


def _make_init(init: Path) -> None:
    """The init layer's empty mount points (0755 directories, 0644 files, as Docker's), those
    missing only: running containers' overlays have it as a lowerdir, which must not change."""
    for name in INIT_FILES:
        path = init / name
        if not path.exists():
            path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            path.touch(mode=0o644)


MNT_DETACH = 2


def _syscall(function, what: str, *args) -> None:
    """Call a libc function that returns -1 and sets errno on failure. Raises RuntimeFailure."""
    if function(*args) != 0:
        raise RuntimeFailure(f"{what}: {errno_message()}")


def _run(command: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeFailure(f"{command[0]} failed: {done.stderr.strip()}")
