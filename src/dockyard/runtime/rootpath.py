"""Resolve a container path to a host path without ever leaving the container's root.

Symlinks are followed the way the kernel would inside the container after pivot_root:
an absolute link target restarts at the root, `..` stops at the root (the idea of
Go's securejoin). Used for /etc/passwd lookups and for mount destinations.
"""

from __future__ import annotations

import os

_MAX_LINKS = 40


def resolve_in_root(root: str, path: str) -> str:
    """Map container path `path` to a host path under `root`, following symlinks inside it.

    Raises OSError(ELOOP) after too many links; missing components are kept as given.
    """
    root = os.path.abspath(root)
    parts = [p for p in path.split("/") if p]
    current: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if current:
                current.pop()
            continue
        candidate = os.path.join(root, *current, part)
        try:
            target = os.readlink(candidate)
        except OSError:  # not a link, or missing: keep the name as it is
            current.append(part)
            continue
        links += 1
        if links > _MAX_LINKS:
            raise OSError(40, "too many levels of symbolic links", path)
        if target.startswith("/"):
            current = []
        parts = [p for p in target.split("/") if p] + parts
    return os.path.join(root, *current)
