"""Is a path a mount point? Read from /proc/self/mountinfo (a bind mount keeps st_dev)."""

from __future__ import annotations

import os
from pathlib import Path

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
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as file:
        return lists_mount_point(file.read(), os.path.realpath(path))
