"""COPY and ADD into a mounted rootfs: Docker's destination rules, owners and modes.

    source is a directory       its contents go into dest (created)
    source is a file            dest/<name> when dest ends in '/' or is a directory, else dest
    several sources (or globs)  dest must end in '/'
    owner                       0:0 for context files, kept for --from files, --chown wins
    mode                        kept, --chmod wins; mtimes are kept

Every destination is resolved inside the rootfs (symlinks in the image are followed
without leaving it); sources come from the build context's index or from another image's
mounted tree, which are both read without following a link out of them.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dockyard.archive import EntryType
from dockyard.build.context import BuildContext, Entry
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


def write_items(
    rootfs: Path, target: str, items: Iterator[Item], attrs: Attributes, context: BuildContext | None
) -> None:
    """Write `items` at image path `target` in the mounted rootfs, with --chown/--chmod applied."""
    directories: list[tuple[str, int]] = []
    for item in items:
        path = posixpath.join(target, item.relative) if item.relative else target
        host = resolve_in_root(str(rootfs), posixpath.dirname(path))
        make_parents(rootfs, posixpath.dirname(path), attrs)
        host = os.path.join(host, posixpath.basename(path)) if path != "/" else str(rootfs)
        uid = item.uid if attrs.uid is None else attrs.uid
        gid = item.gid if attrs.gid is None else attrs.gid
        mode = item.mode if attrs.mode is None else attrs.mode
        if item.type is EntryType.DIRECTORY:
            if not os.path.isdir(host):
                _replace(host, path)
                os.mkdir(host, 0o700)
            os.chown(host, uid, gid)
            os.chmod(host, mode)
            directories.append((host, item.mtime))
            continue
        _replace(host, path)
        if item.type is EntryType.SYMLINK:
            os.symlink(item.linkname, host)
            os.lchown(host, uid, gid)
        else:
            _write_file(host, item, context)
            os.chown(host, uid, gid)
            os.chmod(host, mode)
        os.utime(host, (item.mtime, item.mtime), follow_symlinks=False)
    for host, mtime in reversed(directories):
        os.utime(host, (mtime, mtime))


def _write_file(host: str, item: Item, context: BuildContext | None) -> None:
    fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        if isinstance(item.source, bytes):
            os.write(fd, item.source)
        elif isinstance(item.source, Entry):
            assert context is not None
            context.copy_data(item.source, fd)
        else:
            with open(str(item.source), "rb") as source:
                while data := source.read(1 << 20):
                    os.write(fd, data)
    finally:
        os.close(fd)


def _replace(host: str, path: str) -> None:
    """Make room for a new entry at `host`; an existing directory is never removed."""
    try:
        st = os.lstat(host)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise InvalidArgument(f"cannot overwrite directory {path} with a file")
    os.unlink(host)


def make_parents(rootfs: Path, path: str, attrs: Attributes) -> None:
    """mkdir -p for an image path, new directories 0755 owned by --chown's user (else root)."""
    missing = []
    while path not in ("/", ""):
        host = resolve_in_root(str(rootfs), path)
        if os.path.isdir(host):
            break
        if os.path.lexists(host):
            raise InvalidArgument(f"cannot copy to {path}: not a directory")
        missing.append(path)
        path = posixpath.dirname(path)
    for directory in reversed(missing):
        host = resolve_in_root(str(rootfs), directory)
        os.mkdir(host, 0o755)
        os.chown(host, attrs.uid or 0, attrs.gid or 0)
