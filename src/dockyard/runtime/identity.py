"""Who the process is: user and groups, capabilities, rlimits, no_new_privs.

Order matters (runc `finalizeNamespace`): drop the bounding set while CAP_SETPCAP is
still held, keep capabilities across setuid, then set the spec's sets exactly.
"""

from __future__ import annotations

import os
import resource  # imported here, not lazily: after pivot_root the stdlib is out of reach

from dockyard.runtime import syscalls as sc
from dockyard.runtime.capabilities import ALL_CAPABILITIES

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2


def last_cap() -> int:
    """The highest capability number the running kernel knows."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        return int(f.read())


def cap_mask(names: list[str], top: int) -> int:
    """A bit mask of the named capabilities the kernel knows (names it lacks are ignored)."""
    mask = 0
    for name in names:
        number = ALL_CAPABILITIES.index(name) if name in ALL_CAPABILITIES else -1
        if 0 <= number <= top:
            mask |= 1 << number
    return mask


def set_rlimits(rlimits: list[dict[str, Any]]) -> None:
    """Apply process.rlimits (`RLIMIT_NOFILE` ...); raising a hard limit needs CAP_SYS_RESOURCE."""
    for limit in rlimits:
        kind = getattr(resource, limit["type"], None)
        if kind is None:
            raise ValueError(f"unknown rlimit type {limit['type']}")
        resource.setrlimit(kind, (limit["soft"], limit["hard"]))


def become(process: dict[str, Any], top: int) -> None:
    """Switch to process.user with process.capabilities; the caller must be root."""
    caps = process.get("capabilities") or {}
    bounding = cap_mask(caps.get("bounding", []), top)
    for number in range(top + 1):
        if not bounding & (1 << number):
            sc.prctl(sc.PR_CAPBSET_DROP, number)
    user = process.get("user", {})
    sc.prctl(sc.PR_SET_KEEPCAPS, 1)
    os.setgroups(list(user.get("additionalGids", [])))
    os.setgid(user.get("gid", 0))
    os.setuid(user.get("uid", 0))
    sc.prctl(sc.PR_SET_KEEPCAPS, 0)
    sc.capset(
        cap_mask(caps.get("effective", []), top),
        cap_mask(caps.get("permitted", []), top),
        cap_mask(caps.get("inheritable", []), top),
    )
    for name in caps.get("ambient", []):
        number = ALL_CAPABILITIES.index(name)
        if number <= top:
            sc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, number)
    if process.get("noNewPrivileges"):
        sc.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
