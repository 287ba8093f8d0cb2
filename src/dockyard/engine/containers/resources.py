"""HostConfig's resource fields: checked as dockerd checks them, then turned into the OCI
spec's `linux.resources`, `process.rlimits` and `process.oomScoreAdj`. Pure over a
`HostLimits` (what this host's cgroups offer, probed once by the daemon).

    HostConfig                         OCI linux.resources
    Memory, MemorySwap                 memory.limit, memory.swap (memory+swap; -1 unlimited)
    MemoryReservation                  memory.reservation
    MemorySwappiness                   memory.swappiness
    OomKillDisable                     memory.disableOOMKiller
    NanoCpus | CpuPeriod, CpuQuota     cpu.period, cpu.quota (NanoCpus: 100 ms periods)
    CpuShares                          cpu.shares
    CpusetCpus, CpusetMems             cpu.cpus, cpu.mems
    PidsLimit                          pids.limit (0 or less: unlimited)
    BlkioWeight, BlkioDevice*          blockIO.weight, blockIO.throttle*Device
    Ulimits, OomScoreAdj               process.rlimits, process.oomScoreAdj

`verify` follows moby's verifyPlatformContainerResources: what the kernel lacks is
discarded with dockerd's warning, what is out of range is a 400 in dockerd's words.
"""

from __future__ import annotations

import os
import resource
import stat
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.runtime.cgroups.sysinfo import HostLimits

MIN_MEMORY = 6 * 1024 * 1024
CFS_PERIOD = 100_000  # microseconds, for NanoCpus
ULIMITS = "core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio rttime sigpending stack".split()
THROTTLES = {  # HostConfig key: (OCI name, HostLimits flag, what dockerd's warning calls it)
    "BlkioDeviceReadBps": ("throttleReadBpsDevice", "blkio_read_bps", ("BPS Block I/O read", "BPS read")),
    "BlkioDeviceWriteBps": ("throttleWriteBpsDevice", "blkio_write_bps", ("BPS Block I/O write", "BPS write")),
    "BlkioDeviceReadIOps": ("throttleReadIOPSDevice", "blkio_read_iops", ("IOPS Block read", "IOPS read")),
    "BlkioDeviceWriteIOps": ("throttleWriteIOPSDevice", "blkio_write_iops", ("IOPS Block write", "IOPS write")),
}
UPDATABLE = (
    "BlkioWeight CpuShares CpuPeriod CpuQuota CpuRealtimePeriod CpuRealtimeRuntime CpusetCpus CpusetMems "
    "Memory MemorySwap MemoryReservation KernelMemory KernelMemoryTCP NanoCpus PidsLimit OomKillDisable "
    "BlkioWeightDevice BlkioDeviceReadBps BlkioDeviceWriteBps BlkioDeviceReadIOps BlkioDeviceWriteIOps "
    "CpuCount CpuPercent IOMaximumIOps IOMaximumBandwidth MemorySwappiness Devices DeviceCgroupRules "
    "DeviceRequests Ulimits CgroupParent"
).split()


def adapt(host_config: dict) -> dict:
    """dockerd's create-time defaults: swap twice the memory, PidsLimit <= 0 is unlimited."""
    host = dict(host_config)
    if (host.get("Memory") or 0) > 0 and not host.get("MemorySwap"):
        host["MemorySwap"] = host["Memory"] * 2
    if host.get("PidsLimit") is not None and host["PidsLimit"] <= 0:
        host["PidsLimit"] = None
    return host


def verify(host: dict, limits: HostLimits, update: bool = False) -> list[str]:
    """Check (and, as dockerd, adjust in place) the resource fields; return the warnings.

    Raises InvalidArgument with dockerd's message for a value out of range."""
    warnings: list[str] = []
    _refuse_unsupported(host)
    _verify_memory(host, limits, warnings, update)
    _verify_cpu(host, limits, warnings)
    _verify_cpuset(host, limits, warnings)
    _verify_blkio(host, limits, warnings)
    adj = host.get("OomScoreAdj") or 0
    if not -1000 <= adj <= 1000:
        raise InvalidArgument(f"Invalid value {adj}, range for oom score adj is [-1000, 1000]")
    if adj < _own_oom_score_adj() and not limits.sys_resource:
        raise InvalidArgument(
            f"OomScoreAdj {adj}: lowering a process's OOM score needs CAP_SYS_RESOURCE, "
            "which this host does not give dockyard"
        )
    rlimits(host.get("Ulimits") or [], limits.sys_resource)
    return warnings


def _refuse_unsupported(host: dict) -> None:
    if host.get("CpuRealtimePeriod") or host.get("CpuRealtimeRuntime"):
        raise InvalidArgument(
            "CpuRealtimePeriod/CpuRealtimeRuntime: real-time CPU scheduling for containers is not supported by dockyard"
        )
    if host.get("CpuCount"):
        raise InvalidArgument("CpuCount: linux does not support CPU count (a Windows option)")
    if host.get("IOMaximumIOps"):
        raise InvalidArgument("Invalid QoS settings: linux does not support configuration of maximum IOPs")
    if host.get("IOMaximumBandwidth"):
        raise InvalidArgument("Invalid QoS settings: linux does not support configuration of maximum bandwidth")


def _verify_memory(host: dict, limits: HostLimits, warnings: list[str], update: bool) -> None:
    memory, swap = host.get("Memory") or 0, host.get("MemorySwap") or 0
    if memory != 0 and memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if memory > 0 and not limits.memory:
        warnings.append(
            "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded."
        )
        host["Memory"], host["MemorySwap"], memory, swap = 0, -1, 0, -1
    if memory > 0 and swap != -1 and not limits.swap:
        warnings.append(
            "Your kernel does not support swap limit capabilities or the cgroup is not mounted. "
            "Memory limited without swap."
        )
        host["MemorySwap"] = swap = -1
    if memory > 0 and swap > 0 and swap < memory:
        raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, see usage")
    if memory == 0 and swap > 0 and not update:
        raise InvalidArgument("You should always set the Memory limit when using Memoryswap limit, see usage")
    _verify_memory_extras(host, limits, warnings, memory)


def _verify_memory_extras(host: dict, limits: HostLimits, warnings: list[str], memory: int) -> None:
    """Swappiness, reservation, kernel memory, OomKillDisable and PidsLimit."""
    swappiness = host.get("MemorySwappiness")
    if swappiness is not None and swappiness != -1 and not limits.swappiness:
        warnings.append(
            "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. "
            "Memory swappiness discarded."
        )
        host["MemorySwappiness"] = swappiness = None
    if swappiness is not None and swappiness != -1 and not 0 <= swappiness <= 100:
        raise InvalidArgument(f"Invalid value: {swappiness}, valid memory swappiness range is 0-100")
    reservation = host.get("MemoryReservation") or 0
    if reservation > 0 and not limits.reservation:
        warnings.append(
            "Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. "
            "Limitation discarded."
        )
        host["MemoryReservation"] = reservation = 0
    if reservation > 0 and reservation < MIN_MEMORY:
        raise InvalidArgument("Minimum memory reservation allowed is 6MB")
    if memory > 0 and reservation > 0 and memory < reservation:
        raise InvalidArgument("Minimum memory limit can not be less than memory reservation limit, see usage")
    for key, what in (("KernelMemory", "kernel memory limit"), ("KernelMemoryTCP", "kernel memory TCP limit")):
        if (host.get(key) or 0) > 0:  # deprecated since Linux 5.4 and refused by 6.x: never set
            warnings.append(
                f"Your kernel does not support {what} capabilities or the cgroup is not mounted. Limitation discarded."
            )
            host[key] = 0
    if host.get("OomKillDisable") and not limits.oom_kill_disable:
        warnings.append("Your kernel does not support OomKillDisable. OomKillDisable discarded.")
        host["OomKillDisable"] = None
    if host.get("OomKillDisable") and memory == 0:
        warnings.append(
            "OOM killer is disabled for the container, but no memory limit is set, "
            "this can result in the system running out of resources."
        )
    if (host.get("PidsLimit") or 0) > 0 and not limits.pids:
        warnings.append(
            "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded."
        )
        host["PidsLimit"] = None


def _verify_cpu(host: dict, limits: HostLimits, warnings: list[str]) -> None:
    nano, period, quota = host.get("NanoCpus") or 0, host.get("CpuPeriod") or 0, host.get("CpuQuota") or 0
    if nano > 0 and period > 0:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano > 0 and quota > 0:
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if nano > 0 and not limits.cpu_cfs:
        raise InvalidArgument(
            "NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted"
        )
    if nano < 0 or nano > limits.ncpu * 10**9:
        raise InvalidArgument(
            f"Range of CPUs is from 0.01 to {limits.ncpu}.00, as there are only {limits.ncpu} CPUs available"
        )
    if (host.get("CpuShares") or 0) > 0 and not limits.cpu_shares:
        warnings.append("Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.")
        host["CpuShares"] = 0
    shares = host.get("CpuShares") or 0
    if shares < 0 or 0 < shares < 2:
        raise InvalidArgument(f"CpuShares {shares}: the minimum allowed cpu-shares is 2")
    if (period or quota) and not limits.cpu_cfs:
        warnings.append("Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.")
        host["CpuPeriod"] = host["CpuQuota"] = period = quota = 0
    if period != 0 and not 1000 <= period <= 1_000_000:
        raise InvalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
    if 0 < quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if (host.get("CpuPercent") or 0) > 0:
        warnings.append("linux does not support CPU percent. Percent discarded.")
        host["CpuPercent"] = 0


def parse_cpuset(text: str) -> set[int]:
    """`0-2,4` -> {0, 1, 2, 4}. Raises ValueError in moby's words."""
    result: set[int] = set()
    if text == "":
        return result
    for part in text.split(","):
        low, sep, high = part.partition("-")
        if not low.isdigit() or (sep and not high.isdigit()):
            raise ValueError(f"invalid format: {text}")
        first, last = int(low), int(high) if sep else int(low)
        if last < first:
            raise ValueError(f"invalid range format: {part}")
        result |= set(range(first, last + 1))
    return result


def _verify_cpuset(host: dict, limits: HostLimits, warnings: list[str]) -> None:
    if (host.get("CpusetCpus") or host.get("CpusetMems")) and not limits.cpuset:
        warnings.append("Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.")
        host["CpusetCpus"] = host["CpusetMems"] = ""
    for key, what, noun, available in (
        ("CpusetCpus", "cpus", "CPUs", limits.cpus),
        ("CpusetMems", "mems", "memory nodes", limits.mems),
    ):
        value = host.get(key) or ""
        try:
            wanted = parse_cpuset(value)
        except ValueError as exc:
            raise InvalidArgument(f"Invalid value {value} for cpuset {what}: {exc}") from None
        if not wanted <= parse_cpuset(available):
            raise InvalidArgument(f"Requested {noun} are not available - requested {value}, available: {available}")


def _verify_blkio(host: dict, limits: HostLimits, warnings: list[str]) -> None:
    weight = host.get("BlkioWeight") or 0
    if weight > 0 and not limits.blkio_weight:
        warnings.append("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
        host["BlkioWeight"] = weight = 0
    if weight > 0 and not 10 <= weight <= 1000:
        raise InvalidArgument("Range of blkio weight is from 10 to 1000")
    if host.get("BlkioWeightDevice") and not limits.blkio_weight_device:
        warnings.append(
            "Your kernel does not support Block I/O weight_device or the cgroup is not mounted. "
            "Weight-device discarded."
        )
        host["BlkioWeightDevice"] = []
    for key, (_, flag, (what, short)) in THROTTLES.items():
        if host.get(key) and not getattr(limits, flag):
            warnings.append(
                f"Your kernel does not support {what} limit or the cgroup is not mounted. "
                f"Block I/O {short} limit discarded."
            )
            host[key] = []
        for device in host.get(key) or ():
            device_numbers(device.get("Path") or "")
            if (device.get("Rate") or 0) < 0:
                raise InvalidArgument(f"{key}: a negative rate for {device.get('Path')}")


def device_numbers(path: str) -> tuple[int, int]:
    """(major, minor) of the block device at `path`. Raises InvalidArgument."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InvalidArgument(f"stat {path}: {(exc.strerror or '').lower()}") from None
    if not stat.S_ISBLK(info.st_mode):
        raise InvalidArgument(f"{path} is not a block device")
    return os.major(info.st_rdev), os.minor(info.st_rdev)


def rlimits(ulimits: list[dict], can_raise: bool) -> list[dict[str, Any]]:
    """Ulimits as OCI process.rlimits. Raises InvalidArgument for an unknown name, soft > hard,
    or a hard limit above the daemon's own that the host gives no right to raise."""
    result = []
    for entry in ulimits:
        name, soft, hard = entry.get("Name") or "", entry.get("Soft"), entry.get("Hard")
        if name not in ULIMITS:
            raise InvalidArgument(f"invalid ulimit type: {name}")
        if soft is None or hard is None or soft < 0 or hard < 0:
            raise InvalidArgument(f"invalid ulimit argument: {name}={soft}:{hard}")
        if soft > hard:
            raise InvalidArgument(f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
        kind = "RLIMIT_" + ("AS" if name == "rss" else name.upper())
        ceiling = resource.getrlimit(getattr(resource, kind, resource.RLIMIT_NOFILE))[1]
        if not can_raise and ceiling != resource.RLIM_INFINITY and hard > ceiling:
            raise InvalidArgument(
                f"ulimit {name}: hard limit {hard} is above this host's {ceiling}, and raising a hard "
                "limit needs CAP_SYS_RESOURCE, which this host does not give dockyard"
            )
        result.append({"type": "RLIMIT_" + name.upper(), "soft": soft, "hard": hard})
    return result


def _own_oom_score_adj() -> int:
    try:
        with open("/proc/self/oom_score_adj") as f:
            return int(f.read())
    except OSError:
        return 0


def oci_resources(host: dict) -> dict[str, Any]:
    """linux.resources (without devices) for a verified HostConfig."""
    memory = {
        "limit": host.get("Memory") or None,
        "reservation": host.get("MemoryReservation") or None,
        "swap": host.get("MemorySwap") or None,
        "swappiness": host.get("MemorySwappiness") if (host.get("MemorySwappiness") or -1) >= 0 else None,
        "disableOOMKiller": host.get("OomKillDisable"),
    }
    nano = host.get("NanoCpus") or 0
    cpu = {
        "shares": host.get("CpuShares") or None,
        "period": CFS_PERIOD if nano else host.get("CpuPeriod") or None,
        "quota": nano * CFS_PERIOD // 10**9 if nano else host.get("CpuQuota") or None,
        "cpus": host.get("CpusetCpus") or None,
        "mems": host.get("CpusetMems") or None,
    }
    block: dict[str, Any] = {"weight": host.get("BlkioWeight") or None}
    for key, (name, _, _) in THROTTLES.items():
        devices = []
        for device in host.get(key) or ():
            major, minor = device_numbers(device["Path"])
            devices.append({"major": major, "minor": minor, "rate": device["Rate"]})
        block[name] = devices or None
    result = {
        "memory": _present(memory),
        "cpu": _present(cpu),
        "pids": {"limit": host["PidsLimit"]} if host.get("PidsLimit") else {},
        "blockIO": _present(block),
    }
    return {key: value for key, value in result.items() if value}


def update_resources(host: dict, sent: dict) -> dict[str, Any]:
    """linux.resources for `docker update` of a running container: the merged HostConfig's,
    and a PidsLimit sent as 0 or less written as unlimited (the one limit an update can lift)."""
    result = oci_resources(host)
    if sent.get("PidsLimit") is not None and sent["PidsLimit"] <= 0:
        result["pids"] = {"limit": 0}
    return result


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def apply_to_spec(spec: dict[str, Any], host: dict, container_id: str) -> None:
    """Put a verified HostConfig's limits into a container's OCI spec (in place)."""
    linux = spec.setdefault("linux", {})
    linux["resources"] = {**linux.get("resources", {}), **oci_resources(host)}
    if host.get("CgroupParent"):
        linux["cgroupsPath"] = f"{host['CgroupParent'].strip('/')}/{container_id}"
    process = spec["process"]
    process["rlimits"] = rlimits(host.get("Ulimits") or [], can_raise=True)
    if host.get("OomScoreAdj"):
        process["oomScoreAdj"] = host["OomScoreAdj"]
