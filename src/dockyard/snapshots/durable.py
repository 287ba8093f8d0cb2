"""Make one unpacked tree durable, the cheaper of two ways.

syncfs(2) waits for every dirty page of the filesystem, so a layer's publication would cost
whatever else the disk had pending (other pulls, builds, containers' writes). `sync_tree`
fsyncs only what the layer wrote: every regular file, then every directory (deepest first),
each from a thread pool, since fsync releases the GIL and concurrent fsyncs share journal
commits (ext4, xfs). Symlinks, devices and fifos have no data: their inodes and names are
made durable by the fsync of the directory that holds them. But each fsync is a cache flush
of the device: for 3,000 small files sync_tree took 0.33 s where one syncfs took 0.06 s.
`make_durable` takes syncfs when what the system has dirty is mostly the tree's own data
(at most FOREIGN_DIRTY more), sync_tree otherwise. Either way the tree is on disk after.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dockyard import faults
from dockyard.libc import LIBC, check

WORKERS = 16
FOREIGN_DIRTY = 64 * 1024 * 1024  # dirty bytes not the tree's that a syncfs may wait for


def make_durable(root: Path, written: int, dirty: Callable[[], int] | None = None) -> None:
    """Put the tree at `root`, whose files hold `written` bytes, on disk; raise OSError on failure."""
    if (dirty or dirty_bytes)() <= written + FOREIGN_DIRTY:
        faults.point("unpack.mid-sync")
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            check(LIBC.syncfs(fd))
        finally:
            os.close(fd)
    else:
        sync_tree(root)


def dirty_bytes() -> int:
    """Dirty and Writeback pages of the whole system (/proc/meminfo), in bytes."""
    total = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("Dirty:", "Writeback:")):
                total += int(line.split()[1]) * 1024
    return total


def tree_entries(root: Path) -> tuple[list[str], list[str]]:
    """The regular files under `root`, and its directories deepest first (root last)."""
    files, directories = [], []
    for top, _subdirs, filenames in os.walk(root):  # symlinks to dirs: not followed
        directories.append(top)
        for name in filenames:
            path = os.path.join(top, name)
            if stat.S_ISREG(os.lstat(path).st_mode):
                files.append(path)
    directories.sort(key=lambda path: path.count(os.sep), reverse=True)
    return files, directories


def sync_tree(root: Path) -> None:
    """fsync every regular file and directory under `root` (files first); raise OSError on failure."""
    files, directories = tree_entries(root)
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="fsync") as pool:
        list(pool.map(_fsync, files))
        faults.point("unpack.mid-sync")
        list(pool.map(_fsync, directories))


def sync_directories(*directories: Path) -> None:
    """fsync each directory: the names renamed or linked into it survive a crash."""
    for directory in directories:
        _fsync(str(directory))


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
