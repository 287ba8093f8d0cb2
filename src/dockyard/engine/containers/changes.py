"""`docker diff`: what a container changed, read from its overlay upper dir.

Each path in the upper dir is Deleted (an overlay whiteout: a 0/0 character device), Modified
(it also exists in a layer beneath) or Added. A directory that exists beneath with the same
mode, size and mtime was only copied up to hold a change deeper down and is not reported,
as moby's `archive.Changes` does. The mount points the runtime creates for the generated
files are not changes of the container's own (Docker keeps them in its init layer).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

MODIFIED, ADDED, DELETED = 0, 1, 2
MOUNT_POINTS = frozenset({"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"})


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: int

    def to_json(self) -> dict:
        return {"Path": self.path, "Kind": self.kind}


def changes(upper: Path, lowers: list[Path]) -> list[Change]:
    """Every change in `upper` over `lowers` (topmost first), sorted by path."""
    found: list[Change] = []
    for directory, dirs, files in os.walk(upper):
        for name in dirs + files:
            full = os.path.join(directory, name)
            path = "/" + os.path.relpath(full, upper)
            change = _classify(path, os.lstat(full), lowers)
            if change is not None:
                found.append(change)
    return sorted(found, key=lambda c: c.path)


def _classify(path: str, info: os.stat_result, lowers: list[Path]) -> Change | None:
    if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:
        return Change(path, DELETED)
    beneath = _lower_stat(path, lowers)
    if beneath is None:
        if path in MOUNT_POINTS and stat.S_ISREG(info.st_mode) and info.st_size == 0:
            return None
        return Change(path, ADDED)
    if stat.S_ISDIR(info.st_mode) and stat.S_ISDIR(beneath.st_mode) and _same_dir(info, beneath):
        return None
    return Change(path, MODIFIED)


def _lower_stat(path: str, lowers: list[Path]) -> os.stat_result | None:
    for lower in lowers:
        try:
            found = os.lstat(str(lower) + path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        return None if stat.S_ISCHR(found.st_mode) and found.st_rdev == 0 else found
    return None


def _same_dir(a: os.stat_result, b: os.stat_result) -> bool:
    return a.st_mode == b.st_mode and a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)
