"""Every field Docker's inspect shows in Config and HostConfig, with Docker's values for the
ones a create request left out (pure).

The tables follow the order and the `omitempty` tags of moby's api/types/container
(`Config`, `HostConfig`, `Resources`) at API 1.44: a field tagged omitempty is shown only
when set, every other one always, as null, 0, "" or false when unset. A client reading
`HostConfig["Runtime"]` or `Config["Env"]` finds the key as it would on dockerd.
"""

from __future__ import annotations

from typing import Any

from dockyard.runtime.spec import DEFAULT_SHM_SIZE, MASKED_PATHS, READONLY_PATHS  # what the runtime applies

# (name, value when unset); None in the value column is JSON null
HOST_CONFIG: tuple[tuple[str, Any], ...] = (
    ("Binds", None),
    ("ContainerIDFile", ""),
    ("LogConfig", {"Type": "json-file", "Config": {}}),
    ("NetworkMode", "default"),
    ("PortBindings", None),
    ("RestartPolicy", {"Name": "no", "MaximumRetryCount": 0}),
    ("AutoRemove", False),
    ("VolumeDriver", ""),
    ("VolumesFrom", None),
    ("ConsoleSize", [0, 0]),
    ("CapAdd", None),
    ("CapDrop", None),
    ("CgroupnsMode", "private"),  # recorded at create; what the runtime gives older records too
    ("Dns", None),
    ("DnsOptions", None),
    ("DnsSearch", None),
    ("ExtraHosts", None),
    ("GroupAdd", None),
    ("IpcMode", "private"),
    ("Cgroup", ""),
    ("Links", None),
    ("OomScoreAdj", 0),
    ("PidMode", ""),
    ("Privileged", False),
    ("PublishAllPorts", False),
    ("ReadonlyRootfs", False),
    ("SecurityOpt", None),
    ("UTSMode", ""),
    ("UsernsMode", ""),
    ("ShmSize", DEFAULT_SHM_SIZE),
    ("Runtime", "dockyard"),  # containers recorded before HostConfig.Runtime was kept
    ("Isolation", ""),
    ("CpuShares", 0),
    ("Memory", 0),
    ("NanoCpus", 0),
    ("CgroupParent", ""),
    ("BlkioWeight", 0),
    ("BlkioWeightDevice", None),
    ("BlkioDeviceReadBps", None),
    ("BlkioDeviceWriteBps", None),
    ("BlkioDeviceReadIOps", None),
    ("BlkioDeviceWriteIOps", None),
    ("CpuPeriod", 0),
    ("CpuQuota", 0),
    ("CpuRealtimePeriod", 0),
    ("CpuRealtimeRuntime", 0),
    ("CpusetCpus", ""),
    ("CpusetMems", ""),
    ("Devices", None),
    ("DeviceCgroupRules", None),
    ("DeviceRequests", None),
    ("MemoryReservation", 0),
    ("MemorySwap", 0),
    ("MemorySwappiness", None),
    ("OomKillDisable", False),
    ("PidsLimit", None),
    ("Ulimits", None),
    ("CpuCount", 0),
    ("CpuPercent", 0),
    ("IOMaximumIOps", 0),
    ("IOMaximumBandwidth", 0),
    ("MaskedPaths", None),
    ("ReadonlyPaths", None),
)
HOST_CONFIG_OMITEMPTY = ("Mounts", "Annotations", "StorageOpt", "Tmpfs", "Sysctls", "Init", "KernelMemoryTCP")

CONFIG: tuple[tuple[str, Any], ...] = (
    ("Hostname", ""),
    ("Domainname", ""),
    ("User", ""),
    ("AttachStdin", False),
    ("AttachStdout", False),
    ("AttachStderr", False),
    ("ExposedPorts", None),
    ("Tty", False),
    ("OpenStdin", False),
    ("StdinOnce", False),
    ("Env", None),
    ("Cmd", None),
    ("Healthcheck", None),
    ("ArgsEscaped", None),
    ("Image", ""),
    ("Volumes", None),
    ("WorkingDir", ""),
    ("Entrypoint", None),
    ("NetworkDisabled", None),
    ("MacAddress", None),
    ("OnBuild", None),
    ("Labels", None),
    ("StopSignal", None),
    ("StopTimeout", None),
    ("Shell", None),
)
CONFIG_OMITEMPTY = {"ExposedPorts", "Healthcheck", "ArgsEscaped", "NetworkDisabled", "MacAddress"}
CONFIG_OMITEMPTY |= {"StopSignal", "StopTimeout", "Shell"}


def host_config(stored: dict) -> dict:
    """The HostConfig inspect shows for a container created with `stored`."""
    out = {name: _pick(stored, name, default) for name, default in HOST_CONFIG}
    if not out["RestartPolicy"].get("Name"):
        out["RestartPolicy"] = {**out["RestartPolicy"], "Name": "no"}
    if out["MaskedPaths"] is None and not out["Privileged"]:
        out["MaskedPaths"] = list(MASKED_PATHS)
    if out["ReadonlyPaths"] is None and not out["Privileged"]:
        out["ReadonlyPaths"] = list(READONLY_PATHS)
    for name in HOST_CONFIG_OMITEMPTY:
        if stored.get(name):
            out[name] = stored[name]
    return out


def config(stored: dict, image: str, no_labels: dict | None = None) -> dict:
    """The Config inspect shows for a container created with `stored` from `image` (and an
    image's Config, with `no_labels` None: an image shows its labels as its config holds them,
    null when absent, {} when empty, where a container always shows a map)."""
    out: dict[str, Any] = {}
    for name, default in CONFIG:
        value = _pick(stored, name, default) if name != "Image" else image
        if name == "Labels" and no_labels is None:
            value = stored.get("Labels")
        elif name in ("Env", "Volumes", "Labels", "OnBuild") and value == type(value)():
            value = no_labels if name == "Labels" else None
        if name in CONFIG_OMITEMPTY and not value:
            continue
        out[name] = value
    return out


def _pick(stored: dict, name: str, default: Any) -> Any:
    value = stored.get(name)
    if value is None or value == "":
        return default if default is not None else value
    return value
