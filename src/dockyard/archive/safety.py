"""The one safety filter every extracted entry passes (the shape of PEP 706 filters).

Unlike tarfile's `data` filter it keeps ownership, setuid bits and device nodes, which
layers need. It works on names only; the extractor adds what names cannot tell:
it never follows a symlink while creating parents (O_NOFOLLOW at every step) and never
opens an existing name for writing (it replaces it).

    entry                         result
    /etc/x, ./etc/x, etc//x       etc/x          (absolute names made relative, as docker)
    a/../b                        b              (cleaned lexically, as docker)
    ../x, a/../../x               InvalidArgument "... is outside of ..."
    hardlink -> ../x, /../x       InvalidArgument
    hardlink -> itself, -> root   InvalidArgument
    a/.wh.., a/.wh.               InvalidArgument (a whiteout naming no entry)
    NUL in a name                 InvalidArgument
    symlink -> /anything          kept: it is created, never followed
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dockyard.archive.tarformat import EntryType, Member
from dockyard.archive.whiteouts import OPAQUE, WHITEOUT
from dockyard.errors import InvalidArgument

ROOT = "."


def clean_name(name: str, dest: Path) -> str:
    """name made relative and cleaned lexically; ROOT for the destination itself.

    Raises:
        InvalidArgument: the name is empty, has a NUL, or climbs out of dest.
    """
    if not name or "\0" in name:
        raise InvalidArgument(f"invalid tar entry name {name!r}")
    parts: list[str] = []
    for part in name.split("/"):
        if part == "..":
            if not parts:
                raise InvalidArgument(f'"{name}" is outside of "{dest}"')
            parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts) or ROOT


def layer_filter(member: Member, dest: Path) -> Member:
    """member with a clean relative name, or InvalidArgument if it could leave dest."""
    name = clean_name(member.name, dest)
    if name == ROOT and member.type is not EntryType.DIRECTORY:
        raise InvalidArgument(f"invalid tar entry {member.name!r}: the root must be a directory")
    base = name.rpartition("/")[2]
    if base.startswith(WHITEOUT) and base != OPAQUE and base[len(WHITEOUT) :] in ("", ".", ".."):
        raise InvalidArgument(f"invalid whiteout {member.name!r}")
    linkname = member.linkname
    if member.type is EntryType.HARDLINK:
        linkname = clean_name(linkname, dest)
        if linkname in (ROOT, name):
            raise InvalidArgument(f"invalid hardlink {member.name!r} -> {member.linkname!r}")
    if (name, linkname) == (member.name, member.linkname):
        return member
    return dataclasses.replace(member, name=name, linkname=linkname)
