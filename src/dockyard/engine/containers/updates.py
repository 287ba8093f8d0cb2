"""`docker update`: which fields a request may change and how they merge (moby
container.UpdateContainer). Pure.

A resource field sent as its zero value keeps the container's current one; PidsLimit is
taken whenever it is sent (0 or less: unlimited); the restart policy when it has a name.
"""

from __future__ import annotations

from dockyard.errors import Conflict, InvalidArgument

KEPT_WHEN_ZERO = (
    "BlkioWeight CpuShares NanoCpus CpuPeriod CpuQuota CpusetCpus CpusetMems Memory MemorySwap "
    "MemoryReservation KernelMemory KernelMemoryTCP CpuRealtimePeriod CpuRealtimeRuntime MemorySwappiness "
    "OomKillDisable BlkioWeightDevice BlkioDeviceReadBps BlkioDeviceWriteBps BlkioDeviceReadIOps "
    "BlkioDeviceWriteIOps"
).split()
REFUSED = (
    "CgroupParent Devices DeviceCgroupRules DeviceRequests Ulimits CpuCount CpuPercent IOMaximumIOps IOMaximumBandwidth"
).split()


def _conflicts(current: dict, sent: dict) -> None:
    pairs = (
        ("NanoCpus", "CpuPeriod", "CPU Period cannot be updated as NanoCPUs has already been set"),
        ("NanoCpus", "CpuQuota", "CPU Quota cannot be updated as NanoCPUs has already been set"),
        ("CpuPeriod", "NanoCpus", "NanoCPUs cannot be updated as CPU Period has already been set"),
        ("CpuQuota", "NanoCpus", "NanoCPUs cannot be updated as CPU Quota has already been set"),
    )
    for new, old, message in pairs:
        if (sent.get(new) or 0) > 0 and (current.get(old) or 0) > 0:
            raise Conflict(f"Conflicting options: {message}")
    memory, swap = sent.get("Memory") or 0, current.get("MemorySwap") or 0
    if memory and memory > swap and not sent.get("MemorySwap"):  # also with no or unlimited swap, as moby
        raise Conflict(
            "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"
        )


def merge(current: dict, sent: dict) -> dict:
    """The HostConfig after an update with body `sent`. Raises Conflict, InvalidArgument."""
    for key in REFUSED:
        if sent.get(key):
            raise InvalidArgument(f"{key} cannot be changed by an update; recreate the container")
    _conflicts(current, sent)
    host = dict(current)
    for key in KEPT_WHEN_ZERO:
        if sent.get(key) not in (None, 0, "", []):
            host[key] = sent[key]
    if sent.get("PidsLimit") is not None:
        host["PidsLimit"] = sent["PidsLimit"] if sent["PidsLimit"] > 0 else None
    policy = sent.get("RestartPolicy") or {}
    if policy.get("Name"):
        if policy["Name"] != "no" and current.get("AutoRemove"):
            raise Conflict("Restart policy cannot be updated because AutoRemove is enabled for the container")
        host["RestartPolicy"] = {"Name": policy["Name"], "MaximumRetryCount": policy.get("MaximumRetryCount") or 0}
    return host
