"""Apply `linux.resources` to a task's cgroups: each controller finds its hierarchy."""

from __future__ import annotations

import os

from dockyard.runtime.cgroups import cpu, devicebpf, devices, memory, pids
from dockyard.runtime.cgroups.hierarchy import Hierarchy, unified

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

CONTROLLERS = {"devices": devices, "memory": memory, "pids": pids, "cpu": cpu}


def controller_path(name: str, hierarchies: list[Hierarchy], paths: list[str]) -> tuple[str, int] | None:
    """Where controller `name` lives for this task: (cgroup path, version), v2 preferred."""
    for want in (2, 1):
        for h, path in zip(hierarchies, paths, strict=False):
            if h.version == want and name in h.controllers:
                return path, h.version
    return None


def apply(resources: dict[str, Any], hierarchies: list[Hierarchy], paths: list[str]) -> None:
    """Write each requested limit; raises OSError if a controller is missing or refuses.

    Device rules go to the v1 devices controller and, as an eBPF program, to the v2 cgroup
    (on a hybrid host both: the kernel checks both for a process in both)."""
    for name, module in CONTROLLERS.items():
        if not module.requested(resources):
            continue
        where = controller_path(name, hierarchies, paths)
        if where is None:
            if getattr(module, "OPTIONAL", False):
                continue
            raise OSError(f"cgroup controller {name} is not available")
        path, version = where
        for filename, value in module.settings(resources, version):
            with open(os.path.join(path, filename), "w") as f:
                f.write(value)
    v2 = unified(hierarchies, paths)
    if v2 is not None and devices.requested(resources):
        devicebpf.attach(v2, resources["devices"])
