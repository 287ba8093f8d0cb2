"""Memory controller: `resources.memory` (OCI): limit, reservation, swap (memory+swap),
swappiness and disableOOMKiller.

    OCI field          v1 file                       v2 file
    limit              memory.limit_in_bytes          memory.max
    reservation        memory.soft_limit_in_bytes     memory.low
    swap (mem+swap)    memory.memsw.limit_in_bytes    memory.swap.max (swap alone)
    swappiness         memory.swappiness              (none)
    disableOOMKiller   memory.oom_control             (none)

A limit of -1 means unlimited (`max` on v2).
"""

from __future__ import annotations

import os

from dockyard.runtime.cgroups.hierarchy import read_file

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

FIELDS = ("limit", "reservation", "swap", "swappiness", "disableOOMKiller")


def requested(resources: dict[str, Any]) -> bool:
    memory = resources.get("memory", {})
    return any(memory.get(name) is not None for name in FIELDS)


def _v2(value: int) -> str:
    return "max" if value < 0 else str(value)


def settings(resources: dict[str, Any], version: int) -> list[tuple[str, str]]:
    """(file, value) pairs in a workable order; limits.apply retries one the kernel refused
    until another is written (memsw can never be below the memory limit, on the way up or down)."""
    mem = resources["memory"]
    limit, swap = mem.get("limit"), mem.get("swap")
    reservation = mem.get("reservation")
    if version == 1:
        result = []
        if limit is not None:
            result.append(("memory.limit_in_bytes", str(limit)))
        if swap is not None:
            result.append(("memory.memsw.limit_in_bytes", str(swap)))
        if reservation is not None:
            result.append(("memory.soft_limit_in_bytes", str(reservation)))
        if mem.get("swappiness") is not None:
            result.append(("memory.swappiness", str(mem["swappiness"])))
        if mem.get("disableOOMKiller") is not None:
            result.append(("memory.oom_control", "1" if mem["disableOOMKiller"] else "0"))
        return result
    result = []
    if limit is not None:
        result.append(("memory.max", _v2(limit)))
    if swap is not None:
        swap_only = -1 if swap < 0 or limit is None or limit < 0 else max(swap - limit, 0)
        result.append(("memory.swap.max", _v2(swap_only)))
    if reservation is not None:
        result.append(("memory.low", _v2(reservation)))
    return result


def oom_kills(paths: list[str]) -> int:
    """How many processes the kernel's OOM killer took in these cgroups (v1 or v2 counters)."""
    total = 0
    for path in paths:
        for name in ("memory.oom_control", "memory.events"):
            try:
                text = read_file(os.path.join(path, name))
            except FileNotFoundError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                total += int(value) if key == "oom_kill" else 0
    return total
