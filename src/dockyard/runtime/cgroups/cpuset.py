"""Cpuset controller: `resources.cpu.cpus` and `mems` (`0-1`, `0,2`); the same files on v1 and v2."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any


def requested(resources: dict[str, Any]) -> bool:
    cpu = resources.get("cpu", {})
    return bool(cpu.get("cpus") or cpu.get("mems"))


def settings(resources: dict[str, Any], version: int) -> list[tuple[str, str]]:
    cpu = resources["cpu"]
    return [(f"cpuset.{name}", cpu[name]) for name in ("cpus", "mems") if cpu.get(name)]
