"""`docker diff`: what a container changed, read from its overlay upper dir.

Each path in the upper dir is Deleted (an overlay whiteout: a 0/0 character device), Modified
(it also exists in a layer beneath) or Added. A directory that exists beneath with the same
mode, size and mtime was only copied up to hold a change deeper down and is not reported,
as moby's `archive.Changes` does. The mount points the runtime creates for the generated
files are not changes of the container's own (Docker keeps them in its init layer).

The upper dir and the layers are read only through directory fds opened with O_NOFOLLOW, side
by side, so a symlink the container plants or swaps in for a directory during the walk (or
one an image's layer holds) is reported as itself and never followed out of the tree.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from dockyard.archive.whiteouts import OPAQUE_XATTR
from dockyard.archive.writer import DIR_FLAGS

MODIFIED, ADDED, DELETED = 0, 1, 2
MOUNT_POINTS = frozenset({"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"})
_GONE = (errno.ENOENT, errno.ELOOP, errno.ENOTDIR)


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: int

    def to_json(self) -> dict:
        return {"Path": self.path, "Kind": self.kind}


def changes(upper: Path, lowers: list[Path]) -> list[Change]:
    """Every change in `upper` over `lowers` (topmost first), sorted by path."""
    found: list[Change] = []
    upper_fd = os.open(upper, DIR_FLAGS)
    lower_fds = [os.open(lower, DIR_FLAGS) for lower in lowers]
    try:
        _walk(upper_fd, lower_fds, "/", found)
    finally:
        for fd in (upper_fd, *lower_fds):
            os.close(fd)
    return sorted(found, key=lambda c: c.path)


def _walk(upper_fd: int, lower_fds: list[int], prefix: str, found: list[Change]) -> None:
    """The changes under the upper directory `upper_fd`, whose lower directories are `lower_fds`."""
    for name in os.listdir(upper_fd):
        path = prefix + name
        info = _lstat(upper_fd, name)
        if info is None:
            continue  # removed meanwhile
        beneath, lower_dirs = _beneath(lower_fds, name)
        change = _classify(path, info, beneath)
        if change is not None:
            found.append(change)
        if not stat.S_ISDIR(info.st_mode):
            _close(lower_dirs)
            continue
        child = _open_dir(upper_fd, name, info)
        if child is None:
            _close(lower_dirs)
            continue
        try:
            if _opaque(child):
                _close(lower_dirs)
                lower_dirs = []
            _walk(child, lower_dirs, path + "/", found)
        finally:
            os.close(child)
            _close(lower_dirs)


def _beneath(lower_fds: list[int], name: str) -> tuple[os.stat_result | None, list[int]]:
    """What the layers beneath show at `name` (None: nothing or a whiteout), and the fds of
    the directories there that a directory in the upper dir merges with (caller closes them)."""
    shown: os.stat_result | None = None
    dirs: list[int] = []
    for fd in lower_fds:
        info = _lstat(fd, name)
        if info is None:
            continue
        if _is_whiteout(info):
            break
        shown = shown or info
        if not stat.S_ISDIR(info.st_mode):
            break
        child = _open_dir(fd, name, info)
        if child is None:
            break
        dirs.append(child)
        if _opaque(child):
            break
    return shown, dirs


def _classify(path: str, info: os.stat_result, beneath: os.stat_result | None) -> Change | None:
    if _is_whiteout(info):
        return Change(path, DELETED)
    if beneath is None:
        if path in MOUNT_POINTS and stat.S_ISREG(info.st_mode) and info.st_size == 0:
            return None
        return Change(path, ADDED)
    if stat.S_ISDIR(info.st_mode) and stat.S_ISDIR(beneath.st_mode) and _same_dir(info, beneath):
        return None
    return Change(path, MODIFIED)


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _GONE:
            return None
        raise


def _open_dir(dir_fd: int, name: str, expected: os.stat_result) -> int | None:
    """The directory `name` of `dir_fd`, if it is still the one `expected` describes."""
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in _GONE:
            return None
        raise
    if os.path.samestat(os.fstat(fd), expected):
        return fd
    os.close(fd)
    return None


def _opaque(fd: int) -> bool:
    try:
        return os.getxattr(fd, OPAQUE_XATTR) == b"y"
    except OSError:
        return False


def _is_whiteout(info: os.stat_result) -> bool:
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == 0


def _close(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _same_dir(a: os.stat_result, b: os.stat_result) -> bool:
    return a.st_mode == b.st_mode and a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)
