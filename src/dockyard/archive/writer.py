"""Write a directory tree as a tar: whole (docker export, cp), as an overlay diff (docker commit).

The tree is read only through directory file descriptors opened with O_NOFOLLOW at every
step, and each file's header comes from fstat of the very fd its data is read from, so a
process that swaps a directory for a symlink during the walk can never make it read outside
the tree (the race of CVE-2018-15664).

Output is deterministic: entries sorted by name bytes, parents before children, mtimes
truncated to seconds, no atime/ctime, no user or group names (numeric ids only), PAX only
where ustar cannot hold a name, an id, a size or xattrs. Sockets are skipped, as docker does;
regular files with several links become one file and hardlinks to it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from dockyard.archive.tarformat import BLOCK, EntryType, Member, encode_member, padded
from dockyard.archive.whiteouts import (
    OPAQUE_XATTR,
    OVERLAY_XATTR_PREFIX,
    opaque_name,
    whiteout_name,
)

_READ = 1 << 20
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.ENXIO)
_TYPES = {
    stat.S_IFREG: EntryType.REGULAR,
    stat.S_IFDIR: EntryType.DIRECTORY,
    stat.S_IFLNK: EntryType.SYMLINK,
    stat.S_IFCHR: EntryType.CHAR,
    stat.S_IFBLK: EntryType.BLOCK,
    stat.S_IFIFO: EntryType.FIFO,
}


def write_tar(root: Path, out: BinaryIO) -> None:
    """Write everything under root (not root itself) to out as a tar."""
    fd = os.open(root, DIR_FLAGS)
    try:
        TreeWriter(out, diff=False).children(fd, "")
    finally:
        os.close(fd)
    end_tar(out)


def write_diff(upper: Path, out: BinaryIO) -> None:
    """Write an overlay upper dir to out as an OCI layer tar.

    A 0/0 character device becomes `.wh.<name>`; a directory with trusted.overlay.opaque=y
    is followed by `<dir>/.wh..wh..opq`.
    """
    fd = os.open(upper, DIR_FLAGS)
    try:
        TreeWriter(out, diff=True).children(fd, "")
    finally:
        os.close(fd)
    end_tar(out)


def write_listed(root: Path, names: Iterable[str], out: BinaryIO) -> None:
    """Write the entries `names` (paths relative to root, parents before children, those of
    one directory together) to out as a tar, directories without what they hold (a build
    context filtered by .dockerignore)."""
    root_fd = os.open(root, DIR_FLAGS)
    parent_name, parent_fd = "", root_fd
    writer = TreeWriter(out, diff=False, recurse=False)
    try:
        for name in names:
            directory, base = os.path.split(name)
            if directory != parent_name:
                if parent_fd != root_fd:
                    os.close(parent_fd)
                parent_name, parent_fd = directory, root_fd
                parent_fd = os.open(directory, DIR_FLAGS, dir_fd=root_fd) if directory else root_fd
            writer.entry(parent_fd, base, name)
    finally:
        if parent_fd != root_fd:
            os.close(parent_fd)
        os.close(root_fd)


def end_tar(out: BinaryIO) -> None:
    out.write(bytes(2 * BLOCK))


class TreeWriter:
    """Writes entries read through directory fds; remembers inodes for hardlinks."""

    def __init__(self, out: BinaryIO, diff: bool = False, recurse: bool = True) -> None:
        self.out, self.diff, self.recurse = out, diff, recurse
        self.links: dict[tuple[int, int], str] = {}

    def children(self, dir_fd: int, prefix: str) -> None:
        """Every entry under the directory `dir_fd`, named `prefix` + relative path."""
        for base in sorted(os.listdir(dir_fd), key=os.fsencode):
            self.entry(dir_fd, base, prefix + base)

    def entry(self, parent_fd: int, base: str, name: str) -> None:
        """The entry `base` of `parent_fd` under `name` (and its tree for a directory).

        Something removed or swapped meanwhile is skipped, never followed.
        """
        try:
            st = os.stat(base, dir_fd=parent_fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                fd = os.open(base, DIR_FLAGS, dir_fd=parent_fd)
            elif stat.S_ISREG(st.st_mode):
                fd = os.open(base, _FILE_FLAGS, dir_fd=parent_fd)
            else:
                self._special(parent_fd, base, name, st)
                return
        except OSError as exc:
            if exc.errno in _GONE:
                return
            raise
        try:
            self.opened(fd, name)
        finally:
            os.close(fd)

    def opened(self, fd: int, name: str) -> None:
        """The open directory or regular file `fd` under `name` (a directory with its tree)."""
        st = os.fstat(fd)
        xattrs = _xattrs(fd)
        if stat.S_ISDIR(st.st_mode):
            member = _member(name.rstrip("/") + "/", st, xattrs)
            self._write(member)
            if self.diff and xattrs.get(OPAQUE_XATTR) == b"y":
                self._write(replace(member, name=opaque_name(name), type=EntryType.REGULAR, mode=member.mode & 0o777))
            if self.recurse:
                self.children(fd, name.rstrip("/") + "/")
        elif stat.S_ISREG(st.st_mode):
            first = self.links.setdefault((st.st_dev, st.st_ino), name) if st.st_nlink > 1 else name
            if first != name:
                self._write(replace(_member(name, st, xattrs), type=EntryType.HARDLINK, linkname=first))
                return
            self._write(_member(name, st, xattrs, size=st.st_size))
            _copy_data(fd, st.st_size, self.out)

    def _special(self, parent_fd: int, base: str, name: str, st: os.stat_result) -> None:
        """A symlink, device or fifo: written from lstat, never opened."""
        if stat.S_ISSOCK(st.st_mode):
            return
        xattrs = _xattrs(f"/proc/self/fd/{parent_fd}/{base}")
        member = _member(name, st, xattrs)
        if member.type is EntryType.SYMLINK:
            try:
                member = replace(member, linkname=os.readlink(base, dir_fd=parent_fd))
            except OSError as exc:
                if exc.errno == errno.EINVAL:  # no longer a link: swapped since the lstat, so skipped
                    return
                raise
        elif member.type in (EntryType.CHAR, EntryType.BLOCK):
            if self.diff and member.type is EntryType.CHAR and st.st_rdev == 0:
                member = replace(member, name=whiteout_name(name), type=EntryType.REGULAR, mode=0o600)
            else:
                member = replace(member, devmajor=os.major(st.st_rdev), devminor=os.minor(st.st_rdev))
        self._write(member)

    def _write(self, member: Member) -> None:
        self.out.write(encode_member(member))


def _member(name: str, st: os.stat_result, xattrs: dict[str, bytes], size: int = 0) -> Member:
    return Member(
        name=name,
        type=_TYPES[stat.S_IFMT(st.st_mode)],
        size=size,
        mode=stat.S_IMODE(st.st_mode),
        uid=st.st_uid,
        gid=st.st_gid,
        mtime_ns=st.st_mtime_ns // 1_000_000_000 * 1_000_000_000,
        xattrs={k: v for k, v in xattrs.items() if not k.startswith(OVERLAY_XATTR_PREFIX)},
    )


def _xattrs(target: int | str) -> dict[str, bytes]:
    """xattrs of an fd, or of a /proc/self/fd/N/name path whose last step is not followed."""
    try:
        names = os.listxattr(target, follow_symlinks=False) if isinstance(target, str) else os.listxattr(target)
        return {
            key: (
                os.getxattr(target, key, follow_symlinks=False) if isinstance(target, str) else os.getxattr(target, key)
            )
            for key in sorted(names)
        }
    except OSError:
        return {}  # a filesystem without xattrs, or the entry went away


def _copy_data(fd: int, size: int, out: BinaryIO) -> None:
    """Copy exactly size bytes (zero-filled if the file shrank meanwhile), then the padding."""
    left = size
    while left:
        data = os.read(fd, min(left, _READ))
        if not data:
            break
        out.write(data)
        left -= len(data)
    out.write(bytes(left + padded(size) - size))
