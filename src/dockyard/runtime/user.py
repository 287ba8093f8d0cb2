"""Resolve Docker's `--user` forms against a rootfs's /etc/passwd and /etc/group.

Forms: `name`, `uid`, `name:group`, `uid:gid`, `name:gid`, `uid:group`, `:gid` (empty means
root). A numeric uid or gid needs no entry. Supplementary groups are the groups that list
the user by name, unless a group was given (runc `libcontainer/user.GetExecUser`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dockyard.errors import InvalidArgument
from dockyard.runtime.rootpath import resolve_in_root

MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class PasswdEntry:
    """One line of /etc/passwd."""

    name: str
    uid: int
    gid: int
    home: str
    shell: str


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """One line of /etc/group."""

    name: str
    gid: int
    members: tuple[str, ...]


def _fields(text: str, count: int) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        rows.append(parts + [""] * (count - len(parts)))
    return rows


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def parse_passwd(text: str) -> list[PasswdEntry]:
    """Entries of an /etc/passwd text; lines with non-numeric ids are skipped."""
    entries = []
    for f in _fields(text, 7):
        uid, gid = _int(f[2]), _int(f[3])
        if uid is not None and gid is not None:
            entries.append(PasswdEntry(f[0], uid, gid, f[5], f[6]))
    return entries


def parse_group(text: str) -> list[GroupEntry]:
    """Entries of an /etc/group text."""
    entries = []
    for f in _fields(text, 4):
        gid = _int(f[2])
        if gid is not None:
            members = tuple(m.strip() for m in f[3].split(",") if m.strip())
            entries.append(GroupEntry(f[0], gid, members))
    return entries


def _numeric(value: str) -> int | None:
    number = _int(value)
    if number is not None and number > MAX_ID:
        raise InvalidArgument("uids and gids must be in range 0-2147483647")
    return number


def lookup_user(user: str, passwd: list[PasswdEntry], groups: list[GroupEntry]) -> tuple[int, int, tuple[int, ...]]:
    """Pure core of resolve_user: the `user` string against parsed files."""
    user_arg, _, group_arg = user.partition(":")
    uid, gid, sgids = 0, 0, ()
    uid_arg = _numeric(user_arg) if user_arg else 0
    matched = next((e for e in passwd if (e.name == user_arg if uid_arg is None else e.uid == uid_arg)), None)
    if matched is not None:
        uid, gid = matched.uid, matched.gid
    elif uid_arg is None:
        raise InvalidArgument(f"unable to find user {user_arg}: no matching entries in passwd file")
    else:
        uid = uid_arg
    if group_arg:
        gid_arg = _numeric(group_arg)
        found = next((g for g in groups if (g.name == group_arg if gid_arg is None else g.gid == gid_arg)), None)
        if found is not None:
            gid = found.gid
        elif gid_arg is None:
            raise InvalidArgument(f"unable to find group {group_arg}: no matching entries in group file")
        else:
            gid = gid_arg
    elif matched is not None:
        sgids = tuple(g.gid for g in groups if matched.name in g.members)
    return uid, gid, sgids


def read_in_root(rootfs: Path, path: str) -> str:
    """A text file of the image (e.g. /etc/group), resolved inside `rootfs`; "" if absent."""
    host = resolve_in_root(str(rootfs), path)
    try:
        fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        return ""
    with open(fd, encoding="utf-8", errors="replace") as f:
        return f.read()


def resolve_user(rootfs: Path, user: str, group_add: tuple[str, ...] = ()) -> tuple[int, int, tuple[int, ...]]:
    """(uid, gid, additional_gids) for Docker's `-u` value and `--group-add` groups inside
    `rootfs`, the added groups after the user's own.

    Raises InvalidArgument with Docker's wording when a name has no entry.
    """
    return resolve_user_home(rootfs, user, group_add)[:3]


def resolve_user_home(
    rootfs: Path, user: str, group_add: tuple[str, ...] = ()
) -> tuple[int, int, tuple[int, ...], str]:
    """resolve_user's ids and the user's home from the same /etc/passwd ("/" when it has none)."""
    passwd = parse_passwd(read_in_root(rootfs, "/etc/passwd"))
    groups = parse_group(read_in_root(rootfs, "/etc/group"))
    uid, gid, sgids = lookup_user(user, passwd, groups)
    home = next((entry.home for entry in passwd if entry.uid == uid), "/")
    return uid, gid, sgids + tuple(g for g in lookup_groups(group_add, groups) if g not in sgids), home


def lookup_groups(names: tuple[str, ...], groups: list[GroupEntry]) -> tuple[int, ...]:
    """GIDs of `--group-add` values: numbers as they are, names from the image's /etc/group."""
    out = []
    for name in names:
        gid = _numeric(name)
        if gid is None:
            found = next((g for g in groups if g.name == name), None)
            if found is None:
                raise InvalidArgument(f"Unable to find group {name}: no matching entries in group file")
            gid = found.gid
        out.append(gid)
    return tuple(out)
