"""Write a directory tree as a tar: whole (docker export) or as an overlay diff (docker commit).

Output is deterministic: entries sorted by name bytes, parents before children, mtimes
truncated to seconds, no atime/ctime, no user or group names (numeric ids only), PAX only
where ustar cannot hold a name, an id, a size or xattrs. Sockets are skipped, as docker does;
regular files with several links become one file and hardlinks to it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
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
_TYPES = (
    (stat.S_ISREG, EntryType.REGULAR),
    (stat.S_ISDIR, EntryType.DIRECTORY),
    (stat.S_ISLNK, EntryType.SYMLINK),
    (stat.S_ISCHR, EntryType.CHAR),
    (stat.S_ISBLK, EntryType.BLOCK),
    (stat.S_ISFIFO, EntryType.FIFO),
)


def write_tar(root: Path, out: BinaryIO) -> None:
    """Write everything under root (not root itself) to out as a tar."""
    _write(root, out, diff=False)


def write_diff(upper: Path, out: BinaryIO) -> None:
    """Write an overlay upper dir to out as an OCI layer tar.

    A 0/0 character device becomes `.wh.<name>`; a directory with trusted.overlay.opaque=y
    is followed by `<dir>/.wh..wh..opq`.
    """
    _write(upper, out, diff=True)


def _write(root: Path, out: BinaryIO, diff: bool) -> None:
    links: dict[tuple[int, int], str] = {}
    for name, path, st in _walk(root):
        for member in _members(name, path, st, diff, links):
            out.write(encode_member(member))
            if member.type is EntryType.REGULAR and member.size:
                _copy_data(path, member.size, out)
    out.write(bytes(2 * BLOCK))


def _walk(root: Path) -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative name, path, lstat) of everything under root, depth first, sorted by name."""
    stack = [("", os.fspath(root), iter(_sorted_names(os.fspath(root))))]
    while stack:
        prefix, directory, names = stack[-1]
        child = next(names, None)
        if child is None:
            stack.pop()
            continue
        path = os.path.join(directory, child)
        st = os.lstat(path)
        yield prefix + child, path, st
        if stat.S_ISDIR(st.st_mode):
            stack.append((prefix + child + "/", path, iter(_sorted_names(path))))


def _sorted_names(directory: str) -> list[str]:
    return sorted(os.listdir(directory), key=os.fsencode)


def _members(name: str, path: str, st: os.stat_result, diff: bool, links: dict[tuple[int, int], str]) -> list[Member]:
    """The tar entries for one file: usually one, none for a socket, two for an opaque dir."""
    entry_type = next((kind for test, kind in _TYPES if test(st.st_mode)), None)
    if entry_type is None:
        return []
    xattrs = _read_xattrs(path)
    member = Member(
        name=name + "/" if entry_type is EntryType.DIRECTORY else name,
        type=entry_type,
        mode=stat.S_IMODE(st.st_mode),
        uid=st.st_uid,
        gid=st.st_gid,
        mtime_ns=st.st_mtime_ns // 1_000_000_000 * 1_000_000_000,
        xattrs={k: v for k, v in xattrs.items() if not k.startswith(OVERLAY_XATTR_PREFIX)},
    )
    if entry_type is EntryType.SYMLINK:
        return [replace(member, linkname=os.readlink(path))]
    if entry_type in (EntryType.CHAR, EntryType.BLOCK):
        if diff and entry_type is EntryType.CHAR and st.st_rdev == 0:
            return [replace(member, name=whiteout_name(name), type=EntryType.REGULAR, mode=0o600)]
        return [replace(member, devmajor=os.major(st.st_rdev), devminor=os.minor(st.st_rdev))]
    if entry_type is EntryType.DIRECTORY:
        if diff and xattrs.get(OPAQUE_XATTR) == b"y":
            marker = Member(
                name=opaque_name(name),
                type=EntryType.REGULAR,
                mode=member.mode & 0o777,
                uid=member.uid,
                gid=member.gid,
                mtime_ns=member.mtime_ns,
            )
            return [member, marker]
        return [member]
    if entry_type is EntryType.REGULAR and st.st_nlink > 1:
        first = links.setdefault((st.st_dev, st.st_ino), name)
        if first != name:
            return [replace(member, type=EntryType.HARDLINK, linkname=first)]
    return [replace(member, size=st.st_size) if entry_type is EntryType.REGULAR else member]


def _read_xattrs(path: str) -> dict[str, bytes]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}  # a filesystem without xattrs
    return {key: os.getxattr(path, key, follow_symlinks=False) for key in sorted(names)}


def _copy_data(path: str, size: int, out: BinaryIO) -> None:
    """Copy exactly size bytes (zero-filled if the file shrank meanwhile), then the padding."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        left = size
        while left:
            data = os.read(fd, min(left, _READ))
            if not data:
                break
            out.write(data)
            left -= len(data)
    finally:
        os.close(fd)
    out.write(bytes(left + padded(size) - size))
