"""`docker stats`: one sample of a container's counters in Docker's stats JSON shape.

A sample joins the container's cgroup counters (runtime `Usage`), the host's total CPU
time (`/proc/stat`, which the CLI divides by for CPU %) and the interfaces of the
container's network namespace (`/proc/<pid>/net/dev`). `precpu_stats` is the previous
sample's `cpu_stats`, as the CLI expects; a stopped container gives the zero document
with only its name and ID, as dockerd does.
"""

from __future__ import annotations

import os

from dockyard.runtime.cgroups.stats import Usage

ZERO_READ = "0001-01-01T00:00:00Z"
_NET_FIELDS = (
    "rx_bytes",
    "rx_packets",
    "rx_errors",
    "rx_dropped",
    None,
    None,
    None,
    None,
    "tx_bytes",
    "tx_packets",
    "tx_errors",
    "tx_dropped",
)


def system_cpu_ns() -> int:
    """The host's total CPU time in nanoseconds (first line of /proc/stat)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    return sum(int(v) for v in fields[:8]) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def host_memory() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def networks(pid: int) -> dict[str, dict[str, int]]:
    """Counters of every interface but lo in the namespace of process `pid`."""
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            lines = f.readlines()[2:]
    except OSError:
        return {}
    result = {}
    for line in lines:
        name, _, numbers = line.partition(":")
        if name.strip() == "lo":
            continue
        values = numbers.split()
        result[name.strip()] = {k: int(v) for k, v in zip(_NET_FIELDS, values, strict=False) if k}
    return result


def cpu_stats(usage: Usage | None, system_ns: int | None) -> dict:
    total = (usage.cpu_ns or 0) if usage else 0
    periods, throttled, throttled_ns = usage.throttling if usage else (0, 0, 0)
    doc: dict = {
        "cpu_usage": {"total_usage": total, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
        "throttling_data": {"periods": periods, "throttled_periods": throttled, "throttled_time": throttled_ns},
    }
    if system_ns is not None:
        doc["system_cpu_usage"] = system_ns
        doc["online_cpus"] = os.cpu_count() or 1
    return doc


def _pids(usage: Usage | None) -> dict:
    """Docker's pids_stats: current, and limit when there is one (both omitted when empty)."""
    if usage is None or usage.pids is None:
        return {}
    return {"current": usage.pids, **({"limit": usage.pids_limit} if usage.pids_limit else {})}


def document(
    name: str,
    container_id: str,
    read: str,
    usage: Usage | None,
    system_ns: int | None,
    previous: dict | None,
    nets: dict | None,
) -> dict:
    """Docker's ContainerStatsResponse for one sample (usage None: a stopped container)."""
    memory: dict = {}
    if usage is not None and usage.memory_bytes is not None:
        limit = usage.memory_limit or 0
        machine = host_memory()
        memory = {
            "usage": usage.memory_bytes,
            "stats": {},
            "limit": machine if not limit or (machine and limit > machine) else limit,
        }
    doc = {
        "name": "/" + name,
        "id": container_id,
        "read": read,
        "preread": (previous or {}).get("read", ZERO_READ),
        "pids_stats": _pids(usage),
        "blkio_stats": {
            "io_service_bytes_recursive": None,
            "io_serviced_recursive": None,
            "io_queue_recursive": None,
            "io_service_time_recursive": None,
            "io_wait_time_recursive": None,
            "io_merged_recursive": None,
            "io_time_recursive": None,
            "sectors_recursive": None,
        },
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu_stats(usage, system_ns),
        "precpu_stats": (previous or {}).get("cpu_stats") or cpu_stats(None, None),
        "memory_stats": memory,
    }
    if nets:
        doc["networks"] = nets
    return doc
