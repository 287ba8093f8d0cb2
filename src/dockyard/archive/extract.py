"""Safe, single-pass extraction of a layer tar into a directory, in overlayfs form.

One read of the decompressed stream feeds the sha256 (the diff_id) and the tar reader;
file data goes from the decompressor's buffers to os.write without copies.

Every name passes `layer_filter`; every parent is reached from an fd of the destination
with O_NOFOLLOW|O_DIRECTORY at each step (so a symlink, even one created by the same tar,
is never followed); an existing entry is removed before its replacement is created with
O_EXCL, and hardlink targets are found the same way. Directory mtimes are set last.
trusted.overlay.* xattrs in a tar are dropped: only whiteout entries say what overlay hides.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from dockyard.archive.compression import decompressed_chunks
from dockyard.archive.readahead import read_ahead
from dockyard.archive.reader import TarReader
from dockyard.archive.safety import ROOT, layer_filter
from dockyard.archive.tarformat import EntryType, Member
from dockyard.archive.whiteouts import OPAQUE_XATTR, OVERLAY_XATTR_PREFIX, Keep, Opaque, classify
from dockyard.errors import InvalidArgument, NoSpace, RuntimeFailure
from dockyard.libc import LIBC
from dockyard.oci.digest import Digest

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_HOST_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM}
_MAX_OPEN_DIRS = 256
_DEVICE_MODES = {EntryType.CHAR: stat.S_IFCHR, EntryType.BLOCK: stat.S_IFBLK}
_SYNC_FILE_RANGE_WRITE = 2
_sync_file_range = LIBC.sync_file_range
_sync_file_range.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)


def apply_layer(stream: BinaryIO, dest: Path) -> tuple[Digest, int]:
    """Extract a layer tar (plain, gzip, zstd, ...) into dest; return (diff_id, size).

    diff_id is the sha256 of the whole uncompressed stream; size is the bytes of regular
    file data written. On error dest may hold part of the layer: extract into a scratch
    directory and rename it into place (as the snapshotter does).

    Raises:
        InvalidArgument: the stream is corrupt or truncated, or an entry is hostile.
        RuntimeFailure: the host failed (disk full, I/O error).
    """
    hasher = hashlib.sha256()  # decompressed and hashed ahead, on another core than the files' writing
    chunks = read_ahead(_hashed(decompressed_chunks(stream), hasher))
    reader = TarReader(chunks)
    size = 0
    try:
        with _Tree(dest) as tree:
            for member in reader:
                member = layer_filter(member, dest)
                tree.trim()
                try:
                    size += _apply(tree, member, reader.data())
                except OSError as exc:
                    raise _translate(exc, member, dest) from exc
                except ValueError as exc:  # e.g. a NUL in an xattr name
                    raise InvalidArgument(f"failed to extract {member.name!r}: {exc}") from exc
            tree.set_directory_times()
        reader.drain()
    finally:
        chunks.close()  # on an error, the read-ahead stops now, not when the generator is collected
    return Digest.from_hex(hasher.hexdigest()), size


def _hashed(chunks: Iterable[bytes], hasher: hashlib._Hash) -> Iterator[bytes]:
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk


def _translate(exc: OSError, member: Member, dest: Path) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace(exc.filename or dest / member.name)
    if exc.errno in _HOST_ERRORS:
        return RuntimeFailure(f"failed to register layer: {exc.strerror}: {member.name}")
    return InvalidArgument(f"failed to extract {member.name!r}: {exc.strerror}")


def extract_at(
    stream: BinaryIO, dest_fd: int, no_overwrite_dir_non_dir: bool = False, owner: tuple[int, int] | None = None
) -> None:
    """Extract a plain tar into the directory `dest_fd` the way `docker cp` does: `.wh.` names
    are ordinary files, existing directories are merged, anything else is replaced.

    Raises:
        InvalidArgument: the body is not a tar, an entry is hostile, or (with
            no_overwrite_dir_non_dir) would replace a directory by a non-directory or back.
        RuntimeFailure: the host failed (disk full, I/O error).

    With `owner` (uid, gid), every entry is owned by it instead of the ids in the tar.
    """
    dest = Path(f"/proc/self/fd/{dest_fd}")  # for messages only: every step goes through fds
    reader = TarReader(decompressed_chunks(stream))
    with _Tree(dest_fd, keep_kinds=no_overwrite_dir_non_dir) as tree:
        for member in reader:
            member = layer_filter(member, dest)
            if owner is not None:
                member = dataclasses.replace(member, uid=owner[0], gid=owner[1])
            tree.trim()
            try:
                _apply(tree, member, reader.data(), layer=False)
            except OSError as exc:
                raise _translate(exc, member, dest) from exc
        tree.set_directory_times()
    reader.drain()


class _Tree:
    """The destination, reached only through directory fds opened without following links.

    With keep_kinds, an entry never replaces a directory by a non-directory or back.
    """

    def __init__(self, dest: Path | int, keep_kinds: bool = False) -> None:
        self.root = os.dup(dest) if isinstance(dest, int) else os.open(dest, _DIR_FLAGS)
        self.keep_kinds = keep_kinds
        self._dirs: dict[str, int] = {}
        self._times: dict[str, int] = {}

    def __enter__(self) -> _Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_dirs()
        os.close(self.root)

    def trim(self) -> None:
        """Bound the fd cache; called between entries, never while an fd is in use."""
        if len(self._dirs) >= _MAX_OPEN_DIRS:
            self._close_dirs()

    def _close_dirs(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()

    def directory(self, path: str, create: bool = True) -> int:
        """An fd of directory path (created 0755 when missing and create is set)."""
        if path in ("", ROOT):
            return self.root
        fd = self._dirs.get(path)
        if fd is not None:
            return fd
        parent, base = self.parent(path, create)
        try:
            fd = os.open(base, _DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            os.mkdir(base, 0o755, dir_fd=parent)
            fd = os.open(base, _DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise InvalidArgument(f'"{path}" is a symlink or not a directory') from None
            raise
        self._dirs[path] = fd
        return fd

    def parent(self, name: str, create: bool = True) -> tuple[int, str]:
        """(fd of name's directory, name's last component)."""
        dirname, _, base = name.rpartition("/")
        return self.directory(dirname, create), base

    def clear(self, name: str, keep_directory: bool) -> bool:
        """Remove whatever is at name (a directory is kept if asked); say if one was kept.

        Raises:
            InvalidArgument: keep_kinds is set and the entry would change kind.
        """
        parent, base = self.parent(name)
        try:
            st = os.stat(base, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if self.keep_kinds and stat.S_ISDIR(st.st_mode) != keep_directory:
            kinds = ("non-directory", "directory") if keep_directory else ("directory", "non-directory")
            raise InvalidArgument(f'cannot overwrite {kinds[0]} "{name}" with {kinds[1]} "{name}"')
        if stat.S_ISDIR(st.st_mode):
            if keep_directory:
                return True
            self._forget(name)
            shutil.rmtree(base, dir_fd=parent)
        else:
            os.unlink(base, dir_fd=parent)
        return False

    def _forget(self, name: str) -> None:
        for path in [p for p in self._dirs if p == name or p.startswith(name + "/")]:
            os.close(self._dirs.pop(path))

    def defer_time(self, name: str, mtime_ns: int) -> None:
        self._times[name] = mtime_ns

    def set_directory_times(self) -> None:
        """Set directory mtimes once their contents are all written."""
        for name, mtime_ns in self._times.items():
            self.trim()
            try:
                fd = self.directory(name, create=False)
            except (OSError, InvalidArgument):
                continue  # replaced or removed by a later entry
            os.utime(fd, ns=(mtime_ns, mtime_ns))


def _apply(tree: _Tree, member: Member, data: Iterator[memoryview], layer: bool = True) -> int:
    """Create one entry (a whiteout only in a layer); return the bytes of file data written."""
    action = classify(member.name) if layer else Keep(member.name)
    if isinstance(action, Opaque):
        os.setxattr(tree.directory(action.path), OPAQUE_XATTR, b"y")
        return 0
    if not isinstance(action, Keep):
        tree.clear(action.path, keep_directory=False)
        parent, base = tree.parent(action.path)
        os.mknod(base, stat.S_IFCHR, 0, dir_fd=parent)
        os.chown(base, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        return 0
    if member.type is EntryType.DIRECTORY:
        _make_directory(tree, member)
        return 0
    if member.type is EntryType.REGULAR:
        return _write_file(tree, member, data, writeback=layer)
    tree.clear(member.name, keep_directory=False)
    parent, base = tree.parent(member.name)
    if member.type is EntryType.HARDLINK:
        target_parent, target = tree.parent(member.linkname, create=False)
        os.link(target, base, src_dir_fd=target_parent, dst_dir_fd=parent, follow_symlinks=False)
        return 0
    if member.type is EntryType.SYMLINK:
        os.symlink(member.linkname, base, dir_fd=parent)
    elif member.type is EntryType.FIFO:
        os.mkfifo(base, 0o600, dir_fd=parent)
    else:
        device = os.makedev(member.devmajor, member.devminor)
        os.mknod(base, 0o600 | _DEVICE_MODES[member.type], device, dir_fd=parent)
    _set_attributes(parent, base, member)
    return 0


def _make_directory(tree: _Tree, member: Member) -> None:
    if member.name != ROOT and not tree.clear(member.name, keep_directory=True):
        parent, base = tree.parent(member.name)
        os.mkdir(base, 0o700, dir_fd=parent)
    fd = tree.directory(member.name)
    os.fchown(fd, member.uid, member.gid)
    os.fchmod(fd, member.mode)
    for key, value in _xattrs(member):
        os.setxattr(fd, key, value)
    tree.defer_time(member.name, member.mtime_ns)


def _write_file(tree: _Tree, member: Member, data: Iterator[memoryview], writeback: bool) -> int:
    """Create a regular file; O_EXCL finds what it replaces (most often nothing) without a stat."""
    parent, base = tree.parent(member.name)
    try:
        fd = os.open(base, _FILE_FLAGS, 0o600, dir_fd=parent)
    except FileExistsError:
        tree.clear(member.name, keep_directory=False)
        fd = os.open(base, _FILE_FLAGS, 0o600, dir_fd=parent)
    try:
        for piece in data:
            while piece:
                piece = piece[os.write(fd, piece) :]
        os.fchown(fd, member.uid, member.gid)
        os.fchmod(fd, member.mode)
        for key, value in _xattrs(member):
            os.setxattr(fd, key, value)
        os.utime(fd, ns=(member.mtime_ns, member.mtime_ns))
        if writeback:  # a layer (made durable before it is published): start the file's writeback
            # now (async), so the layer's fsync finds it on disk or on its way (decision 0121)
            _sync_file_range(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)
    finally:
        os.close(fd)
    return member.size


def _set_attributes(parent: int, base: str, member: Member) -> None:
    """Owner, mode, xattrs and mtime of a just-created symlink, device or fifo."""
    os.chown(base, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
    if member.type is not EntryType.SYMLINK:
        os.chmod(base, member.mode, dir_fd=parent)  # just made by mknod: not a symlink
    path = f"/proc/self/fd/{parent}/{base}"  # setxattr has no dir_fd; the last step is not followed
    for key, value in _xattrs(member):
        os.setxattr(path, key, value, follow_symlinks=False)
    os.utime(base, ns=(member.mtime_ns, member.mtime_ns), dir_fd=parent, follow_symlinks=False)


def _xattrs(member: Member) -> Iterator[tuple[str, bytes]]:
    for key, value in member.xattrs.items():
        if not key.startswith(OVERLAY_XATTR_PREFIX):
            yield key, value
