"""FakeSnapshotter: the Snapshotter contract (dockyard.snapshots.snapshotter) without mounts or root.

Layers are kept in memory as whole filesystem trees (each layer's tree applied over its
parent's, whiteouts and all) and written out as plain files under the data root's layout.
A snapshot is a copy, as containerd's native snapshotter makes: prepare() writes its
parent's tree into `containers/<key>/rootfs`, which is then the live, writable filesystem,
"mounted" or not; diff() compares it with the parent's tree.

What a fake cannot do without root, it leaves out and says so: device nodes are not
created and ownership is the caller's; `layers/<hex>/diff` holds a layer's files without
its whiteouts; `paths(key).upper` holds the snapshot's added and modified files (written
when asked for), its deletions being known only to diff().
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from dockyard.archive import write_tar
from dockyard.archive.compression import decompressed_chunks
from dockyard.archive.reader import TarReader
from dockyard.archive.safety import ROOT, layer_filter
from dockyard.archive.tarformat import BLOCK, EntryType, Member, encode_member, padded
from dockyard.archive.whiteouts import Opaque, Remove, classify, whiteout_name
from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.oci.digest import Digest
from dockyard.paths import DataRoot
from dockyard.snapshots.snapshotter import (
    INIT_FILES,
    DiffIdMismatch,
    LayerInfo,
    Mount,
    SnapshotPaths,
    StagedLayer,
    unpack_by_stages,
)


@dataclass(frozen=True, slots=True)
class _Entry:
    member: Member
    data: bytes = b""


Tree = dict[str, _Entry]  # clean relative name -> entry; "" never appears


@dataclass(slots=True)
class _Layer:
    info: LayerInfo
    tree: Tree


class FakeSnapshotter:
    """Snapshotter over plain directories under `root`; see the module docstring."""

    def __init__(self, root: DataRoot) -> None:
        self._root = root
        self._layers: dict[Digest, _Layer] = {}
        self._snapshots: dict[str, Digest | None] = {}  # key -> parent
        self._unsynced: set[str] = set()  # keys prepared without `durable` (power_loss() takes their parent)
        self._mounted: set[str] = set()
        for path in (root.layers, root.containers):
            path.mkdir(parents=True, exist_ok=True)

    # -- layers -------------------------------------------------------------------------

    def has_layer(self, chain_id: Digest) -> bool:
        return Digest(chain_id) in self._layers

    def layer(self, chain_id: Digest) -> LayerInfo:
        try:
            return self._layers[Digest(chain_id)].info
        except KeyError:
            raise NotFound(f"layer does not exist: {chain_id}") from None

    def unpack(
        self, chain_id: Digest, parent: Digest | None, tar: BinaryIO, diff_id: Digest | None = None
    ) -> LayerInfo:
        return unpack_by_stages(self, chain_id, parent, tar, diff_id)

    def stage(self, tar: BinaryIO, diff_id: Digest | None = None) -> StagedLayer:
        """Read and check the tar; its entries wait in memory for publish()."""
        hasher = hashlib.sha256()
        reader = TarReader(_hashed(decompressed_chunks(tar), hasher))
        entries = []
        for member in reader:
            member = layer_filter(member, self._root.layers)
            entries.append((member, b"".join(bytes(piece) for piece in reader.data())))
        reader.drain()
        actual = Digest.from_hex(hasher.hexdigest())
        if diff_id is not None and actual != diff_id:
            raise DiffIdMismatch(actual, Digest(diff_id))
        return StagedLayer(actual, entries)

    def publish(self, staged: StagedLayer, chain_id: Digest, parent: Digest | None) -> LayerInfo:
        """Apply the staged entries over the parent's tree."""
        if parent is not None and not self.has_layer(parent):
            raise NotFound(f"layer does not exist: {parent}")
        if self.has_layer(chain_id):
            return self.layer(chain_id)
        base = dict(self._layers[Digest(parent)].tree) if parent is not None else {}
        own: Tree = {}
        assert isinstance(staged.handle, list)
        for member, data in staged.handle:
            _apply(base, own, member, data)
        size = sum(len(entry.data) for entry in own.values() if entry.member.type is EntryType.REGULAR)
        info = LayerInfo(Digest(chain_id), Digest(parent) if parent else None, staged.diff_id, size)
        _write_tree(own, self._layer_dir(chain_id))
        self._layers[Digest(chain_id)] = _Layer(info, base)
        return info

    def discard(self, staged: StagedLayer) -> None:
        """Nothing is kept outside the staged layer itself."""

    def _layer_dir(self, chain_id: Digest) -> Path:
        return self._root.layers / Digest(chain_id).hex / "diff"

    def remove_layer(self, chain_id: Digest) -> None:
        if not self.has_layer(chain_id):
            return
        for child in self._layers.values():
            if child.info.parent == chain_id:
                raise Conflict(f"layer {chain_id} is in use by layer {child.info.chain_id.hex}")
        for key, parent in self._snapshots.items():
            if parent == chain_id:
                raise Conflict(f"layer {chain_id} is in use by container {key}")
        del self._layers[Digest(chain_id)]
        shutil.rmtree(self._layer_dir(chain_id).parent, ignore_errors=True)

    def list_layers(self) -> list[Digest]:
        """Children before their parents, as the overlay snapshotter lists them."""
        return sorted(self._layers, key=lambda layer: (-self._depth(layer), layer))

    def _depth(self, layer: Digest | None) -> int:
        depth = 0
        while layer is not None:
            depth, layer = depth + 1, self._layers[layer].info.parent
        return depth

    # -- snapshots ----------------------------------------------------------------------

    def _snapshot_dir(self, key: str) -> Path:
        if not key or "/" in key or key in (".", "..") or "\0" in key:
            raise InvalidArgument(f"invalid snapshot key {key!r}")
        return self._root.container(key)

    def _parent_of(self, key: str) -> Digest | None:
        self._snapshot_dir(key)
        if key not in self._snapshots:
            raise NotFound(f"snapshot {key} does not exist")
        return self._snapshots[key]

    def prepare(self, key: str, parent: Digest | None, durable: bool = True) -> list[Mount]:
        directory = self._snapshot_dir(key)
        if key in self._snapshots:
            raise Conflict(f"snapshot {key} already exists")
        if parent is not None and not self.has_layer(parent):
            raise NotFound(f"layer does not exist: {parent}")
        _write_tree(self._tree(parent), directory / "rootfs")
        self._snapshots[key] = Digest(parent) if parent else None
        if not durable:
            self._unsynced.add(key)
        return [Mount("bind", str(directory / "rootfs"), ("rbind", "rw"))]

    def repair(self, key: str, parent: Digest | None) -> bool:
        """Put back the parent power_loss() took (and the rootfs, if it is gone)."""
        directory = self._snapshot_dir(key)
        if key in self._snapshots and self._snapshots[key] == parent:
            return False
        if parent is not None and not self.has_layer(parent):
            raise NotFound(f"layer does not exist: {parent}")
        if not (directory / "rootfs").is_dir():
            _write_tree(self._tree(parent), directory / "rootfs")
        self._snapshots[key] = Digest(parent) if parent else None
        self._unsynced.discard(key)
        return True

    def power_loss(self) -> None:
        """What a power loss may do to snapshots prepared without `durable`: their parent is
        lost, and they read as a snapshot with none (as an empty parent file reads)."""
        for key in self._unsynced & self._snapshots.keys():
            self._snapshots[key] = None
        self._unsynced.clear()

    def _tree(self, parent: Digest | None) -> Tree:
        """What a snapshot over `parent` starts from: the parent's tree and the init layer."""
        if parent is None:
            return {}
        tree = dict(self._layers[parent].tree)
        for name in INIT_FILES:
            if "/" in name and name.rpartition("/")[0] not in tree:
                directory = name.rpartition("/")[0]
                tree[directory] = _Entry(Member(directory, EntryType.DIRECTORY, mode=0o755))
            tree[name] = _Entry(Member(name, EntryType.REGULAR, mode=0o644))
        return tree

    def paths(self, key: str) -> SnapshotPaths:
        parent = self._parent_of(key)
        directory = self._snapshot_dir(key)
        upper = directory / "upper"
        shutil.rmtree(upper, ignore_errors=True)
        _write_tree(self._changes(key), upper)
        lowers, layer = [], parent
        while layer is not None:
            lowers.append(self._layer_dir(layer))
            layer = self._layers[layer].info.parent
        return SnapshotPaths(directory / "rootfs", upper, directory / "work", tuple(lowers))

    def mount(self, key: str) -> Path:
        self._parent_of(key)
        self._mounted.add(key)
        return self._snapshot_dir(key) / "rootfs"

    def unmount(self, key: str) -> None:
        self._mounted.discard(key)

    def is_mounted(self, key: str) -> bool:
        """Whether mount() was called since the last unmount() (there is no real mount)."""
        return key in self._mounted

    def remove(self, key: str) -> None:
        directory = self._snapshot_dir(key)
        self.unmount(key)
        self._snapshots.pop(key, None)
        self._unsynced.discard(key)
        for name in ("rootfs", "upper", "work"):
            _remove_tree(directory / name)
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()

    def diff(self, key: str, out: BinaryIO) -> None:
        """The changes of the snapshot against its parent, as an OCI layer tar."""
        rootfs = self._snapshot_dir(key) / "rootfs"
        entries = self._changes(key)
        for name in self._deleted(key):
            entries[whiteout_name(name)] = _Entry(Member(whiteout_name(name), EntryType.REGULAR, mode=0o600))
            _add_parents(entries, rootfs, name)
        _write_entries([entries[name] for name in sorted(entries, key=os.fsencode)], out)

    def export(self, key: str, out: BinaryIO) -> None:
        self._parent_of(key)
        write_tar(self._snapshot_dir(key) / "rootfs", out)

    def _changes(self, key: str) -> Tree:
        """Entries of the rootfs that differ from the parent's, with their parent directories."""
        lower = self._tree(self._parent_of(key))
        rootfs = self._snapshot_dir(key) / "rootfs"
        changed: dict[str, _Entry] = {}
        for name, entry in _read_tree(rootfs):
            if _same(lower.get(name), entry):
                continue
            changed[name] = entry
            _add_parents(changed, rootfs, name)
        return changed

    def _deleted(self, key: str) -> list[str]:
        """The topmost names of the parent's tree that are gone from the rootfs."""
        rootfs = self._snapshot_dir(key) / "rootfs"
        gone = [n for n in self._tree(self._parent_of(key)) if not os.path.lexists(rootfs / n)]
        return [n for n in gone if n.rpartition("/")[0] not in gone]


def _add_parents(tree: Tree, rootfs: Path, name: str) -> None:
    """The directories above `name`, as the rootfs has them (a diff carries them too)."""
    parent = name.rpartition("/")[0]
    while parent and parent not in tree:
        tree[parent] = _read_entry(rootfs, parent)
        parent = parent.rpartition("/")[0]


def _hashed(chunks: Iterator[bytes], hasher) -> Iterator[bytes]:
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk


def _apply(tree: Tree, own: Tree, member: Member, data: bytes) -> None:
    """One layer entry over the tree beneath (whiteouts remove, others replace)."""
    name = member.name.rstrip("/")
    if name == ROOT:
        return
    action = classify(name)
    if isinstance(action, Remove | Opaque):
        prefix = action.path + "/" if action.path else ""
        doomed = [n for n in tree if n.startswith(prefix) or (isinstance(action, Remove) and n == action.path)]
        for existing in doomed:
            del tree[existing]
        return
    if member.type is EntryType.HARDLINK:
        source = tree.get(member.linkname.rstrip("/"))
        if source is None:
            raise InvalidArgument(f"invalid hardlink {member.name!r}: no {member.linkname!r} before it")
        member, data = replace(source.member, name=name), source.data
    if name in tree and not (tree[name].member.type is EntryType.DIRECTORY and member.type is EntryType.DIRECTORY):
        for child in [n for n in tree if n.startswith(name + "/")]:
            del tree[child]
    entry = _Entry(replace(member, name=name, mode=member.mode & 0o7777), data)
    tree[name] = own[name] = entry


def _write_tree(tree: Tree, dest: Path) -> None:
    """Write the tree's entries as plain files under dest (no devices, the caller's ownership)."""
    dest.mkdir(parents=True, exist_ok=True)
    directories = []
    for name in sorted(tree, key=lambda n: n.count("/")):
        member, path = tree[name].member, dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if member.type is EntryType.DIRECTORY:
            path.mkdir(exist_ok=True)
            directories.append((path, member.mode))
        elif member.type is EntryType.SYMLINK:
            os.symlink(member.linkname, path)
        elif member.type is EntryType.REGULAR:
            path.write_bytes(tree[name].data)
            os.chmod(path, member.mode & 0o7777)
        elif member.type is EntryType.FIFO:
            os.mkfifo(path, member.mode & 0o777)
    for path, mode in directories:
        os.chmod(path, (mode & 0o7777) | 0o700)  # always writable by us, so remove() works


def _read_tree(root: Path) -> Iterator[tuple[str, _Entry]]:
    for directory, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            relative = os.path.relpath(os.path.join(directory, name), root)
            yield relative, _read_entry(root, relative)


def _read_entry(root: Path, name: str) -> _Entry:
    path = root / name
    st = os.lstat(path)
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        return _Entry(Member(name + "/", EntryType.DIRECTORY, mode=mode))
    if stat.S_ISLNK(st.st_mode):
        return _Entry(Member(name, EntryType.SYMLINK, mode=mode, linkname=os.readlink(path)))
    if stat.S_ISFIFO(st.st_mode):
        return _Entry(Member(name, EntryType.FIFO, mode=mode))
    data = path.read_bytes()
    return _Entry(Member(name, EntryType.REGULAR, mode=mode, size=len(data)), data)


def _same(before: _Entry | None, now: _Entry) -> bool:
    if before is None or before.member.type is not now.member.type:
        return False
    if now.member.type is EntryType.DIRECTORY:
        return (before.member.mode | 0o700) == now.member.mode
    if now.member.type is EntryType.SYMLINK:
        return before.member.linkname == now.member.linkname
    return (before.member.mode, before.data) == (now.member.mode, now.data)


def _write_entries(entries: list[_Entry], out: BinaryIO) -> None:
    for entry in entries:
        out.write(encode_member(entry.member))
        out.write(entry.data + bytes(padded(len(entry.data)) - len(entry.data)))
    out.write(bytes(2 * BLOCK))


def _remove_tree(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
