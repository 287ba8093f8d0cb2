"""Is a path a mount point? Read from /proc/self/mountinfo (a bind mount keeps st_dev)."""

from __future__ import annotations

import os
import re
from pathlib import Path

_ESCAPE = re.compile(r"\\([0-7]{3})")


def mount_points(mountinfo: str) -> set[str]:
    """The mount points listed in mountinfo text (field 5, octal escapes undone)."""
    points = set()
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.add(_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def is_mounted(path: Path) -> bool:
    """Whether path (symlinks resolved) is a mount point in this mount namespace."""
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as file:
        return os.path.realpath(path) in mount_points(file.read())
