"""Apply `linux.resources` to a task's cgroups: each controller finds its hierarchy.

Used at create (the shim, before the process joins, or while a child made ahead waits in
the cgroup: runtime/sandbox.py) and by `docker update` on a running task. A write the kernel
refuses is tried again once the others are done, since some depend on one another (v1 memsw
may never be below the memory limit, cpuset mems before cpus on an empty set), then the
first refusal is raised.
"""

from __future__ import annotations

import os

from dockyard.runtime.cgroups import blkio, cpu, cpuset, devicebpf, devices, memory, pids
from dockyard.runtime.cgroups.hierarchy import Hierarchy, unified, write_file

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from typing import Any

CONTROLLERS = {"devices": devices, "memory": memory, "pids": pids, "cpu": cpu, "cpuset": cpuset, "blkio": blkio}
V2_NAMES = {"blkio": "io"}  # a controller called otherwise on the unified hierarchy


def controller_path(name: str, hierarchies: list[Hierarchy], paths: list[str]) -> tuple[str, int] | None:
    """Where controller `name` (its v1 name) lives for this task: (cgroup path, version), v2 preferred."""
    for want in (2, 1):
        wanted = V2_NAMES.get(name, name) if want == 2 else name
        for h, path in zip(hierarchies, paths, strict=False):
            if h.version == want and wanted in h.controllers:
                return path, h.version
    return None


def writes(resources: dict[str, Any], hierarchies: list[Hierarchy], paths: list[str]) -> list[tuple[str, str]]:
    """(file path, value) for every requested limit. Raises OSError if a controller is missing."""
    result = []
    for name, module in CONTROLLERS.items():
        if not module.requested(resources):
            continue
        where = controller_path(name, hierarchies, paths)
        if where is None:
            if getattr(module, "OPTIONAL", False):
                continue
            raise OSError(f"cgroup controller {name} is not available")
        path, version = where
        result += [(os.path.join(path, filename), value) for filename, value in module.settings(resources, version)]
    return result


def apply(resources: dict[str, Any], hierarchies: list[Hierarchy], paths: list[str]) -> None:
    """Write each requested limit; raises OSError if a controller is missing or refuses.

    Device rules go to the v1 devices controller and, as an eBPF program, to the v2 cgroup
    (on a hybrid host both: the kernel checks both for a process in both)."""
    _write_all(writes(resources, hierarchies, paths))
    v2 = unified(hierarchies, paths)
    if v2 is not None and devices.requested(resources):
        devicebpf.attach(v2, resources["devices"])


def _write_all(pending: list[tuple[str, str]]) -> None:
    """Write every (file, value); a refusal is tried once more after the others."""
    for _ in range(2):
        refused: list[tuple[str, str, OSError]] = []
        for path, value in pending:
            try:
                write_file(path, value)
            except OSError as exc:
                refused.append((path, value, exc))
        if not refused:
            return
        pending = [(path, value) for path, value, _ in refused]
    path, value, exc = refused[0]
    raise OSError(exc.errno, f"writing {value!r} to {path}: {exc.strerror}")
