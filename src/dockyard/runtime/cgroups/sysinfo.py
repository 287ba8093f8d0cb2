"""What this host's cgroups can limit (moby `pkg/sysinfo`): read once at daemon start.

Each flag says whether the kernel offers the knob where dockyard would write it: on v1 the
file at the controller's mount root, on v2 the controller in the unified root's
cgroup.controllers. `docker info` and the checks at create and update read these.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dockyard.runtime.cgroups.hierarchy import Hierarchy, discover


@dataclass(frozen=True, slots=True)
class HostLimits:
    cgroup_version: int = 1
    memory: bool = True
    swap: bool = True
    reservation: bool = True
    swappiness: bool = True
    oom_kill_disable: bool = True
    kernel_memory: bool = False
    kernel_memory_tcp: bool = False
    cpu_shares: bool = True
    cpu_cfs: bool = True
    cpu_realtime: bool = False
    cpuset: bool = True
    cpus: str = "0"
    mems: str = "0"
    pids: bool = True
    blkio_weight: bool = False
    blkio_weight_device: bool = False
    blkio_read_bps: bool = True
    blkio_write_bps: bool = True
    blkio_read_iops: bool = True
    blkio_write_iops: bool = True
    ncpu: int = 1
    sys_resource: bool = False  # the daemon may raise hard rlimits and lower OOM scores


def _has_sys_resource() -> bool:
    """CAP_SYS_RESOURCE (bit 24) in the daemon's effective set."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 24))
    return False


def _first(path: str, *names: str) -> str:
    for name in names:
        try:
            with open(os.path.join(path, name)) as f:
                return f.read().strip()
        except OSError:
            continue
    return ""


def _v1(hierarchies: list[Hierarchy]) -> dict:
    roots = {c: h.path for h in hierarchies if h.version == 1 for c in h.controllers}

    def has(controller: str, name: str) -> bool:
        return controller in roots and os.path.exists(os.path.join(roots[controller], name))

    cpuset = roots.get("cpuset", "")
    return dict(
        memory=has("memory", "memory.limit_in_bytes"),
        swap=has("memory", "memory.memsw.limit_in_bytes"),
        reservation=has("memory", "memory.soft_limit_in_bytes"),
        swappiness=has("memory", "memory.swappiness"),
        oom_kill_disable=has("memory", "memory.oom_control"),
        cpu_shares=has("cpu", "cpu.shares"),
        cpu_cfs=has("cpu", "cpu.cfs_quota_us"),
        cpu_realtime=has("cpu", "cpu.rt_runtime_us"),
        cpuset="cpuset" in roots,
        cpus=_first(cpuset, "cpuset.effective_cpus", "cpuset.cpus") if cpuset else "",
        mems=_first(cpuset, "cpuset.effective_mems", "cpuset.mems") if cpuset else "",
        pids="pids" in roots,
        blkio_weight=has("blkio", "blkio.weight"),
        blkio_weight_device=has("blkio", "blkio.weight_device"),
        blkio_read_bps=has("blkio", "blkio.throttle.read_bps_device"),
        blkio_write_bps=has("blkio", "blkio.throttle.write_bps_device"),
        blkio_read_iops=has("blkio", "blkio.throttle.read_iops_device"),
        blkio_write_iops=has("blkio", "blkio.throttle.write_iops_device"),
    )


def _v2(unified: Hierarchy) -> dict:
    have = set(unified.controllers)
    io = "io" in have
    return dict(
        cgroup_version=2,
        memory="memory" in have,
        swap="memory" in have and os.path.exists("/proc/swaps"),
        reservation="memory" in have,
        swappiness=False,
        oom_kill_disable=False,
        cpu_shares="cpu" in have,
        cpu_cfs="cpu" in have,
        cpuset="cpuset" in have,
        cpus=_first(unified.path, "cpuset.cpus.effective"),
        mems=_first(unified.path, "cpuset.mems.effective"),
        pids="pids" in have,
        blkio_weight=io and os.path.exists(os.path.join(unified.path, "io.weight")),
        blkio_weight_device=io and os.path.exists(os.path.join(unified.path, "io.weight")),
        blkio_read_bps=io,
        blkio_write_bps=io,
        blkio_read_iops=io,
        blkio_write_iops=io,
    )


def probe(hierarchies: list[Hierarchy] | None = None) -> HostLimits:
    """The host's limits: the unified hierarchy's when it carries the controllers, else v1's."""
    hierarchies = discover() if hierarchies is None else hierarchies
    unified = next((h for h in hierarchies if h.version == 2 and h.controllers), None)
    found = _v2(unified) if unified and not any(h.version == 1 for h in hierarchies) else _v1(hierarchies)
    ncpu = os.cpu_count() or 1
    found["cpus"] = found["cpus"] or f"0-{ncpu - 1}"
    found["mems"] = found["mems"] or "0"
    return HostLimits(ncpu=ncpu, sys_resource=_has_sys_resource(), **found)
