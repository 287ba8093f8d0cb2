"""Bytes a directory tree takes, counted as `du -sb` counts them (apparent sizes, each inode
once), read through directory fds opened with O_NOFOLLOW so that a tree a container can
write to (an upper dir, a volume) can never make the count walk onto the host."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ELOOP, errno.ENOTDIR)


def du(path: Path | str, directories: bool = True) -> int:
    """Apparent bytes of every entry under `path` and of `path` itself, hardlinks once (0 if
    it does not exist); without the directories' own sizes if `directories` is False."""
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError as exc:
        if exc.errno in _GONE:
            return 0
        raise
    seen: set[tuple[int, int]] = set()
    try:
        info = os.fstat(fd)
        return (info.st_size if directories else 0) + _under(fd, seen, directories)
    finally:
        os.close(fd)


def _under(dir_fd: int, seen: set[tuple[int, int]], directories: bool) -> int:
    total = 0
    for name in os.listdir(dir_fd):
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in _GONE:
                continue
            raise
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        if not stat.S_ISDIR(info.st_mode):
            total += info.st_size
            continue
        total += info.st_size if directories else 0
        try:
            child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in _GONE:
                continue  # swapped for a link or removed meanwhile
            raise
        try:
            if os.path.samestat(os.fstat(child), info):
                total += _under(child, seen, directories)
        finally:
            os.close(child)
    return total
