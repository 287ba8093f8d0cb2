"""Memory controller: `resources.memory.limit` (bytes) and `swap` (memory+swap)."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any


def requested(resources: dict[str, Any]) -> bool:
    return bool(resources.get("memory", {}).get("limit"))


def settings(resources: dict[str, Any], version: int) -> list[tuple[str, str]]:
    """(file, value) pairs; v1 limit_in_bytes / memsw, v2 memory.max / swap.max."""
    mem = resources["memory"]
    limit, swap = mem["limit"], mem.get("swap")
    if version == 1:
        result = [("memory.limit_in_bytes", str(limit))]
        if swap:
            result.append(("memory.memsw.limit_in_bytes", str(swap)))
        return result
    result = [("memory.max", str(limit))]
    if swap:
        result.append(("memory.swap.max", "max" if swap < 0 else str(max(swap - limit, 0))))
    return result


def oom_kills(paths: list[str]) -> int:
    """How many processes the kernel's OOM killer took in these cgroups (v1 or v2 counters)."""
    total = 0
    for path in paths:
        for name in ("memory.oom_control", "memory.events"):
            try:
                with open(os.path.join(path, name)) as f:
                    for line in f:
                        key, _, value = line.partition(" ")
                        total += int(value) if key == "oom_kill" else 0
            except FileNotFoundError:
                continue
    return total
