"""Read a task's resource usage for `docker stats`: memory, CPU time, pids (v1 or v2 files)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Usage:
    """Counters at one instant; None where the host has no such controller."""

    memory_bytes: int | None
    memory_limit: int | None
    cpu_ns: int | None
    pids: int | None
    pids_limit: int | None = None  # None: unlimited or no controller
    throttling: tuple[int, int, int] = (0, 0, 0)  # CFS periods, throttled periods, throttled ns


def _read(path: str, name: str) -> str | None:
    try:
        with open(os.path.join(path, name)) as f:
            return f.read().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _throttling(where: dict[str, tuple[str, int]]) -> tuple[int, int, int]:
    """cpu.stat's nr_periods, nr_throttled and throttled time (v1 ns, v2 usec)."""
    if "cpu" not in where:
        return (0, 0, 0)
    path, version = where["cpu"]
    stat = dict(line.split() for line in (_read(path, "cpu.stat") or "").splitlines() if len(line.split()) == 2)
    throttled = int(stat.get("throttled_time", 0)) if version == 1 else int(stat.get("throttled_usec", 0)) * 1000
    return (int(stat.get("nr_periods", 0)), int(stat.get("nr_throttled", 0)), throttled)


def read_usage(where: dict[str, tuple[str, int]]) -> Usage:
    """`where` maps controller name (memory, cpuacct or cpu, pids) to (path, version)."""
    memory_bytes = memory_limit = cpu_ns = pids = pids_limit = None
    if "memory" in where:
        path, version = where["memory"]
        if version == 1:
            memory_bytes = _number(_read(path, "memory.usage_in_bytes"))
            memory_limit = _number(_read(path, "memory.limit_in_bytes"))
        else:
            memory_bytes = _number(_read(path, "memory.current"))
            memory_limit = _number(_read(path, "memory.max"))
    if "cpuacct" in where:
        cpu_ns = _number(_read(where["cpuacct"][0], "cpuacct.usage"))
    elif "cpu" in where and where["cpu"][1] == 2:
        stat = dict(line.split() for line in (_read(where["cpu"][0], "cpu.stat") or "").splitlines())
        cpu_ns = int(stat["usage_usec"]) * 1000 if "usage_usec" in stat else None
    if "pids" in where:
        pids = _number(_read(where["pids"][0], "pids.current"))
        pids_limit = _number(_read(where["pids"][0], "pids.max"))
    return Usage(memory_bytes, memory_limit, cpu_ns, pids, pids_limit, _throttling(where))
