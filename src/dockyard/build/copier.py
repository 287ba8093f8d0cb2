"""COPY and ADD into a mounted rootfs: Docker's destination rules, owners and modes.

    source is a directory       its contents go into dest (created)
    source is a file            dest/<name> when dest ends in '/' or is a directory, else dest
    several sources (or globs)  dest must end in '/'
    owner                       0:0 for context files, kept for --from files, --chown wins
    mode                        kept, --chmod wins; mtimes are kept

The result is a layer tar (LayerWriter); the parent image, mounted read-only at `rootfs`,
is only looked at: destinations are resolved inside it (its symlinks followed without
leaving it) and the directories it already has keep their owners and modes. Sources come
from the build context's index or from another image's mounted tree, neither read through
a link that leads out of it.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dockyard.archive import EntryType
from dockyard.build.context import BuildContext, Entry
from dockyard.build.layertar import LayerWriter
from dockyard.errors import InvalidArgument, NotFound
from dockyard.runtime.rootpath import resolve_in_root
from dockyard.runtime.user import resolve_user

MULTIPLE = "When using {} with more than one source file, the destination must be a directory and end with a /"


@dataclass(frozen=True, slots=True)
class Attributes:
    """--chown and --chmod, resolved: None keeps the source's."""

    uid: int | None = None
    gid: int | None = None
    mode: int | None = None


def attributes(rootfs: Path, chown: str, chmod: str) -> Attributes:
    """--chown (names looked up in the image) and --chmod (octal). Raises InvalidArgument."""
    uid = gid = mode = None
    if chown:
        if ":" in chown:
            uid, gid, _ = resolve_user(rootfs, chown)
        else:
            uid = gid = resolve_user(rootfs, chown)[0]
    if chmod:
        try:
            mode = int(chmod, 8)
        except ValueError:
            raise InvalidArgument(f"invalid chmod parameter: {chmod}") from None
        if not 0 <= mode <= 0o7777:
            raise InvalidArgument(f"invalid chmod parameter: {chmod}")
    return Attributes(uid, gid, mode)


@dataclass(frozen=True, slots=True)
class Item:
    """One thing to write: where (relative to the copy's target), what, and its source."""

    relative: str
    type: EntryType
    mode: int
    uid: int
    gid: int
    mtime: int
    linkname: str = ""
    source: object = None  # context Entry or host path of a regular file


def target_of(rootfs: Path, dest: str, workdir: str, name: str, is_dir_source: bool, multiple: bool, what: str) -> str:
    """The image path one source lands at. Raises InvalidArgument for several sources into a file."""
    absolute = dest if dest.startswith("/") else posixpath.join(workdir or "/", dest)
    into_dir = dest.endswith("/") or dest.endswith("/.") or dest in (".", "")
    if multiple and not into_dir:
        raise InvalidArgument(MULTIPLE.format(what))
    absolute = posixpath.normpath(absolute)
    if is_dir_source:
        return absolute
    if into_dir or os.path.isdir(resolve_in_root(str(rootfs), absolute)):
        return posixpath.join(absolute, name)
    return absolute


def context_items(context: BuildContext, path: str) -> Iterator[Item]:
    """The source `path` of the context (resolved) and, for a directory, everything below."""
    entry = context.entry(path)
    if entry.type is not EntryType.DIRECTORY:
        yield _context_item("", entry)
        return
    prefix = "" if path == "." else path + "/"
    yield _context_item("", entry)
    for child in context.walk(path):
        yield _context_item(child[len(prefix) :], context.entries[child])


def _context_item(relative: str, entry: Entry) -> Item:
    return Item(relative, entry.type, entry.mode, 0, 0, entry.mtime, entry.linkname, entry)


def tree_items(root: Path, path: str) -> Iterator[Item]:
    """The image path `path` under `root` (symlinks followed inside it) and what is below."""
    host = resolve_in_root(str(root), path)
    try:
        st = os.lstat(host)
    except FileNotFoundError:
        raise NotFound(f"failed to compute cache key: {path}: not found") from None
    yield _tree_item("", host, st)
    if stat.S_ISDIR(st.st_mode):
        for directory, dirs, files in os.walk(host):
            dirs.sort()
            for name in sorted(dirs + files):
                full = os.path.join(directory, name)
                yield _tree_item(os.path.relpath(full, host), full, os.lstat(full))


def _tree_item(relative: str, host: str, st: os.stat_result) -> Item:
    mode = st.st_mode
    kind = (
        EntryType.DIRECTORY
        if stat.S_ISDIR(mode)
        else EntryType.SYMLINK
        if stat.S_ISLNK(mode)
        else EntryType.REGULAR
        if stat.S_ISREG(mode)
        else None
    )
    if kind is None:
        raise InvalidArgument(f"cannot copy special file {host}")
    link = os.readlink(host) if kind is EntryType.SYMLINK else ""
    return Item(relative, kind, stat.S_IMODE(mode), st.st_uid, st.st_gid, int(st.st_mtime), link, host)


class LayerCopy:
    """Writes copied items into a LayerWriter, reading the parent image (mounted at
    `rootfs`) only to resolve destinations and keep the attributes of directories it has."""

    def __init__(self, rootfs: Path, layer: LayerWriter, attrs: Attributes, now: int) -> None:
        self.rootfs, self.layer, self.attrs, self.now = rootfs, layer, attrs, now
        self._real: dict[str, str] = {"/": "/"}
        self._new: set[str] = set()  # directories the image does not have: nothing to look up below

    def _lstat(self, path: str) -> os.stat_result | None:
        """The image's entry at `path`, None when it has none."""
        if posixpath.dirname(path) in self._new:
            return None
        try:
            return os.lstat(os.path.join(self.rootfs, path.lstrip("/")))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def directory(self, path: str) -> str:
        """mkdir -p `path` in the layer; return its real path (image symlinks followed)."""
        if path in self._real:
            return self._real[path]
        parent = self.directory(posixpath.dirname(path))
        candidate = posixpath.join(parent, posixpath.basename(path))
        if candidate not in self.layer.directories:
            st = self._lstat(candidate)
            if st is not None and stat.S_ISLNK(st.st_mode):
                real = "/" + os.path.relpath(resolve_in_root(str(self.rootfs), candidate), self.rootfs)
                candidate = self.directory(posixpath.normpath(real))
            elif st is not None and stat.S_ISDIR(st.st_mode):
                self.layer.directory(candidate, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, int(st.st_mtime))
            elif st is not None:
                raise InvalidArgument(f"cannot copy to {path}: {candidate} is not a directory")
            else:
                self.layer.directory(candidate, 0o755, self.attrs.uid or 0, self.attrs.gid or 0, self.now)
                self._new.add(candidate)
        self._real[path] = candidate
        return candidate

    def write(self, target: str, items: Iterable[Item], context: BuildContext | None) -> None:
        """Every item at image path `target` (a copied directory's contents go into it)."""
        for item in items:
            path = posixpath.join(target, item.relative) if item.relative else target
            if item.type is EntryType.DIRECTORY and not item.relative:
                st = self._lstat(path)
                if st is not None and (stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                    self.directory(path)  # an existing destination keeps its attributes
                    continue
            name = posixpath.join(self.directory(posixpath.dirname(path)), posixpath.basename(path))
            uid = item.uid if self.attrs.uid is None else self.attrs.uid
            gid = item.gid if self.attrs.gid is None else self.attrs.gid
            mode = item.mode if self.attrs.mode is None else self.attrs.mode
            existing = self._lstat(name)
            if item.type is EntryType.DIRECTORY:
                self.layer.directory(name, mode, uid, gid, item.mtime)
                self._real[name] = name
                if existing is None:
                    self._new.add(name)
                continue
            if name in self.layer.directories or (existing is not None and stat.S_ISDIR(existing.st_mode)):
                raise InvalidArgument(f"cannot overwrite directory {name} with a file")
            if item.type is EntryType.SYMLINK:
                self.layer.symlink(name, item.linkname, uid, gid, item.mtime)
            else:
                size, data = _data(item, context)
                self.layer.file(name, mode, uid, gid, item.mtime, size, data)


def _data(item: Item, context: BuildContext | None) -> tuple[int, Iterable[bytes]]:
    if isinstance(item.source, bytes):
        return len(item.source), [item.source]
    if isinstance(item.source, Entry):
        assert context is not None
        reader = context.open(item.source)
        return item.source.size, iter(lambda: reader.read(1 << 20), b"")
    size = os.stat(str(item.source)).st_size
    return size, _read_file(str(item.source))


def _read_file(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while data := f.read(1 << 20):
            yield data
