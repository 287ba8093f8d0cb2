"""Whiteouts, pure: what one layer entry does to the layers beneath it.

    OCI layer tar              overlayfs on disk (lowerdir / upperdir)
    dir/.wh.name               dir/name, a 0/0 character device     (name removed)
    dir/.wh..wh..opq           xattr trusted.overlay.opaque=y on dir (dir's lower content hidden)

Extraction turns the left column into the right; write_diff turns it back.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
OVERLAY_XATTR_PREFIX = "trusted.overlay."


@dataclass(frozen=True, slots=True)
class Remove:
    """The entry removes `path` from the layers beneath."""

    path: str


@dataclass(frozen=True, slots=True)
class Opaque:
    """The entry hides everything beneath directory `path` ("" is the root)."""

    path: str


@dataclass(frozen=True, slots=True)
class Keep:
    """An ordinary entry."""

    path: str


def classify(name: str) -> Remove | Opaque | Keep:
    """Say what one layer entry does to the layers beneath it."""
    parent, _, base = name.rpartition("/")
    if base == OPAQUE:
        return Opaque(parent)
    if base.startswith(WHITEOUT):
        return Remove(posixpath.join(parent, base.removeprefix(WHITEOUT)))
    return Keep(name)


def whiteout_name(path: str) -> str:
    """The OCI entry name that removes path."""
    parent, _, base = path.rpartition("/")
    return posixpath.join(parent, WHITEOUT + base)


def opaque_name(directory: str) -> str:
    """The OCI entry name that makes directory opaque."""
    return posixpath.join(directory, OPAQUE)
