"""Is a path a mount point? statx's STATX_ATTR_MOUNT_ROOT (Linux 5.8), else the line in
/proc/self/mountinfo: never st_dev, which a bind mount keeps."""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

from dockyard.libc import LIBC

STATX_ATTR_MOUNT_ROOT = 0x2000
AT_FDCWD, AT_NO_AUTOMOUNT = -100, 0x800
_STATX = getattr(LIBC, "statx", None)  # glibc 2.28 on
_ATTRIBUTES, _ATTRIBUTES_MASK = 8, 56  # byte offsets of stx_attributes and stx_attributes_mask

_MANGLED = {"\\": "\\134", " ": "\\040", "\t": "\\011", "\n": "\\012"}  # the kernel's show_path()


def lists_mount_point(mountinfo: str, path: str) -> bool:
    """Whether mountinfo text lists `path` as a mount point (field 5). Pure.

    The text is searched for the path as the kernel writes it, and only the lines that hold
    it are split: with a rootfs mounted per container the table grows by a line each, and
    splitting every line cost ten times the search (0.1 ms against 0.01 ms at 125 lines here)."""
    mangled = "".join(_MANGLED.get(c, c) for c in path)
    needle = f" {mangled} "
    at = mountinfo.find(needle)
    while at != -1:
        begin = mountinfo.rfind("\n", 0, at) + 1
        end = mountinfo.find("\n", at)
        fields = mountinfo[begin : end if end != -1 else len(mountinfo)].split(" ")
        if len(fields) > 4 and fields[4] == mangled:
            return True
        at = mountinfo.find(needle, at + 1)
    return False


def is_mounted(path: Path) -> bool:
    """Whether path (symlinks resolved) is a mount point in this mount namespace."""
    root = _mount_root(path)
    if root is not None:
        return root
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as file:
        return lists_mount_point(file.read(), os.path.realpath(path))


def _mount_root(path: Path) -> bool | None:
    """statx's answer (a few µs, where reading the table costs 0.1 ms and grows with it); None
    where the kernel or C library cannot tell."""
    if _STATX is None:
        return None
    buffer = ctypes.create_string_buffer(256)  # struct statx
    if _STATX(AT_FDCWD, os.fsencode(path), AT_NO_AUTOMOUNT, 0, buffer) != 0:  # symlinks followed; no fields asked
        return False if ctypes.get_errno() in (errno.ENOENT, errno.ENOTDIR) else None
    mask = int.from_bytes(buffer.raw[_ATTRIBUTES_MASK : _ATTRIBUTES_MASK + 8], "little")
    if not mask & STATX_ATTR_MOUNT_ROOT:
        return None
    attributes = int.from_bytes(buffer.raw[_ATTRIBUTES : _ATTRIBUTES + 8], "little")
    return bool(attributes & STATX_ATTR_MOUNT_ROOT)
