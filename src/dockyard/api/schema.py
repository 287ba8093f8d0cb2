"""The JSON types of the request bodies the engine takes, checked before the engine sees them.

The table follows the Engine API spec (v1.44 definitions ContainerConfig, HostConfig,
NetworkingConfig, EndpointSettings, IPAM, ...; tests/api/test_schema.py holds it against the
spec) and names each type as dockerd's Go types do, so a wrong type is answered with
dockerd's own message:

    json: cannot unmarshal string into Go struct field HostConfig.HostConfig.RestartPolicy
    of type container.RestartPolicy

Type expressions: a scalar (`string`, `bool`, `int64`, `uint16`, ...; a named Go type such
as `container.NetworkMode` after `=` is its JSON kind), `[]T`, `map[string]T`, a struct name
from STRUCTS, `strslice` (a string or a list of strings) or `any`. Unknown fields and
nulls pass, as with Go's decoder.
"""

from __future__ import annotations

import math

from dockyard.errors import InvalidArgument

S, B, INT, I64 = "string", "bool", "int", "int64"
LIST, MAP = "[]string", "map[string]string"
_INTS = {
    "int": (-(2**63), 2**63 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "time.Duration": (-(2**63), 2**63 - 1),
    "uint": (0, 2**64 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "os.FileMode": (0, 2**32 - 1),
}
_NAMED_STRINGS = {
    "container.NetworkMode",
    "container.IpcMode",
    "container.PidMode",
    "container.UTSMode",
    "container.UsernsMode",
    "container.CgroupSpec",
    "container.CgroupnsMode",
    "container.Isolation",
    "container.RestartPolicyMode",
    "mount.Type",
    "mount.Consistency",
    "mount.Propagation",
    "nat.Port",
}

RESOURCES = {
    "CpuShares": I64,
    "Memory": I64,
    "NanoCpus": I64,
    "CgroupParent": S,
    "BlkioWeight": "uint16",
    "BlkioWeightDevice": "[]blkiodev.WeightDevice",
    "BlkioDeviceReadBps": "[]blkiodev.ThrottleDevice",
    "BlkioDeviceWriteBps": "[]blkiodev.ThrottleDevice",
    "BlkioDeviceReadIOps": "[]blkiodev.ThrottleDevice",
    "BlkioDeviceWriteIOps": "[]blkiodev.ThrottleDevice",
    "CpuPeriod": I64,
    "CpuQuota": I64,
    "CpuRealtimePeriod": I64,
    "CpuRealtimeRuntime": I64,
    "CpusetCpus": S,
    "CpusetMems": S,
    "Devices": "[]container.DeviceMapping",
    "DeviceCgroupRules": LIST,
    "DeviceRequests": "[]container.DeviceRequest",
    "KernelMemory": I64,
    "KernelMemoryTCP": I64,
    "MemoryReservation": I64,
    "MemorySwap": I64,
    "MemorySwappiness": I64,
    "OomKillDisable": B,
    "PidsLimit": I64,
    "Ulimits": "[]units.Ulimit",
    "CpuCount": I64,
    "CpuPercent": I64,
    "IOMaximumIOps": "uint64",
    "IOMaximumBandwidth": "uint64",
}
CONFIG = {
    "Hostname": S,
    "Domainname": S,
    "User": S,
    "AttachStdin": B,
    "AttachStdout": B,
    "AttachStderr": B,
    "ExposedPorts": "map[string]struct {}",
    "Tty": B,
    "OpenStdin": B,
    "StdinOnce": B,
    "Env": LIST,
    "Cmd": "strslice",
    "Healthcheck": "container.HealthConfig",
    "ArgsEscaped": B,
    "Image": S,
    "Volumes": "map[string]struct {}",
    "WorkingDir": S,
    "Entrypoint": "strslice",
    "NetworkDisabled": B,
    "MacAddress": S,
    "OnBuild": LIST,
    "Labels": MAP,
    "StopSignal": S,
    "StopTimeout": INT,
    "Shell": "strslice",
}
HOST_CONFIG = {
    **RESOURCES,
    "Binds": LIST,
    "ContainerIDFile": S,
    "LogConfig": "container.LogConfig",
    "NetworkMode": "container.NetworkMode",
    "PortBindings": "map[string][]nat.PortBinding",
    "RestartPolicy": "container.RestartPolicy",
    "AutoRemove": B,
    "VolumeDriver": S,
    "VolumesFrom": LIST,
    "Mounts": "[]mount.Mount",
    "ConsoleSize": "[]uint",
    "Annotations": MAP,
    "CapAdd": "strslice",
    "CapDrop": "strslice",
    "CgroupnsMode": "container.CgroupnsMode",
    "Dns": LIST,
    "DnsOptions": LIST,
    "DnsSearch": LIST,
    "ExtraHosts": LIST,
    "GroupAdd": LIST,
    "IpcMode": "container.IpcMode",
    "Cgroup": "container.CgroupSpec",
    "Links": LIST,
    "OomScoreAdj": INT,
    "PidMode": "container.PidMode",
    "Privileged": B,
    "PublishAllPorts": B,
    "ReadonlyRootfs": B,
    "SecurityOpt": LIST,
    "StorageOpt": MAP,
    "Tmpfs": MAP,
    "UTSMode": "container.UTSMode",
    "UsernsMode": "container.UsernsMode",
    "ShmSize": I64,
    "Sysctls": MAP,
    "Runtime": S,
    "Isolation": "container.Isolation",
    "MaskedPaths": LIST,
    "ReadonlyPaths": LIST,
    "Init": B,
}
ENDPOINT = {
    "IPAMConfig": "network.EndpointIPAMConfig",
    "Links": LIST,
    "MacAddress": S,
    "Aliases": LIST,
    "NetworkID": S,
    "EndpointID": S,
    "Gateway": S,
    "IPAddress": S,
    "IPPrefixLen": INT,
    "IPv6Gateway": S,
    "GlobalIPv6Address": S,
    "GlobalIPv6PrefixLen": INT,
    "DriverOpts": MAP,
    "DNSNames": LIST,
}

STRUCTS: dict[str, dict[str, str]] = {
    "runconfig.ContainerConfigWrapper": {
        **CONFIG,
        "HostConfig": "container.HostConfig",
        "NetworkingConfig": "network.NetworkingConfig",
    },
    "container.HostConfig": HOST_CONFIG,
    "container.UpdateConfig": {**RESOURCES, "RestartPolicy": "container.RestartPolicy"},
    "container.HealthConfig": {
        "Test": LIST,
        "Interval": "time.Duration",
        "Timeout": "time.Duration",
        "StartPeriod": "time.Duration",
        "StartInterval": "time.Duration",
        "Retries": INT,
    },
    "container.LogConfig": {"Type": S, "Config": MAP},
    "container.RestartPolicy": {"Name": "container.RestartPolicyMode", "MaximumRetryCount": INT},
    "container.DeviceMapping": {"PathOnHost": S, "PathInContainer": S, "CgroupPermissions": S},
    "container.DeviceRequest": {
        "Driver": S,
        "Count": INT,
        "DeviceIDs": LIST,
        "Capabilities": "[][]string",
        "Options": MAP,
    },
    "blkiodev.WeightDevice": {"Path": S, "Weight": "uint16"},
    "blkiodev.ThrottleDevice": {"Path": S, "Rate": "uint64"},
    "units.Ulimit": {"Name": S, "Soft": I64, "Hard": I64},
    "nat.PortBinding": {"HostIp": S, "HostPort": S},
    "mount.Mount": {
        "Type": "mount.Type",
        "Source": S,
        "Target": S,
        "ReadOnly": B,
        "Consistency": "mount.Consistency",
        "BindOptions": "mount.BindOptions",
        "VolumeOptions": "mount.VolumeOptions",
        "TmpfsOptions": "mount.TmpfsOptions",
    },
    "mount.BindOptions": {
        "Propagation": "mount.Propagation",
        "NonRecursive": B,
        "CreateMountpoint": B,
        "ReadOnlyNonRecursive": B,
        "ReadOnlyForceRecursive": B,
    },
    "mount.VolumeOptions": {"NoCopy": B, "Labels": MAP, "DriverConfig": "mount.Driver"},
    "mount.Driver": {"Name": S, "Options": MAP},
    "mount.TmpfsOptions": {"SizeBytes": I64, "Mode": "os.FileMode"},
    "network.NetworkingConfig": {"EndpointsConfig": "map[string]network.EndpointSettings"},
    "network.EndpointSettings": ENDPOINT,
    "network.EndpointIPAMConfig": {"IPv4Address": S, "IPv6Address": S, "LinkLocalIPs": LIST},
    "types.NetworkCreateRequest": {
        "Name": S,
        "CheckDuplicate": B,
        "Driver": S,
        "Scope": S,
        "EnableIPv6": B,
        "IPAM": "network.IPAM",
        "Internal": B,
        "Attachable": B,
        "Ingress": B,
        "ConfigOnly": B,
        "ConfigFrom": "network.ConfigReference",
        "Options": MAP,
        "Labels": MAP,
    },
    "network.IPAM": {"Driver": S, "Options": MAP, "Config": "[]network.IPAMConfig"},
    "network.IPAMConfig": {"Subnet": S, "IPRange": S, "Gateway": S, "AuxiliaryAddresses": MAP},
    "network.ConfigReference": {"Network": S},
    "types.NetworkConnect": {"Container": S, "EndpointConfig": "network.EndpointSettings"},
    "types.NetworkDisconnect": {"Container": S, "Force": B},
    "types.ExecConfig": {
        "User": S,
        "Privileged": B,
        "Tty": B,
        "ConsoleSize": "[]uint",
        "AttachStdin": B,
        "AttachStderr": B,
        "AttachStdout": B,
        "Detach": B,
        "DetachKeys": S,
        "Env": LIST,
        "WorkingDir": S,
        "Cmd": LIST,
    },
    "types.ExecStartCheck": {"Detach": B, "Tty": B, "ConsoleSize": "[]uint"},
    "volume.VolumeCreateBody": {
        "Name": S,
        "Driver": S,
        "DriverOpts": MAP,
        "Labels": MAP,
        "ClusterVolumeSpec": "any",
    },
}


def check(body: object, struct: str) -> None:
    """Check a decoded JSON body against `struct` of STRUCTS.

    Raises InvalidArgument with Go's wording for the first value of the wrong type.
    """
    if not isinstance(body, dict):
        raise InvalidArgument(f"json: cannot unmarshal {_kind(body)} into Go value of type {struct}")
    _struct(body, struct, "")


def _struct(value: dict, struct: str, path: str) -> None:
    fields = STRUCTS[struct]
    owner = struct.rpartition(".")[2]
    for key, item in value.items():
        expr = fields.get(key)
        if expr is not None:
            _value(item, expr, owner, f"{path}{key}")


def _value(value: object, expr: str, owner: str, path: str) -> None:
    """Check one value; `owner.path` names it in errors as Go does (struct, then JSON keys)."""
    if value is None or expr == "any":
        return
    if expr == "strslice":  # a string or a list of strings; Go reports the failure as `string`
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return
        _fail(value, "string", owner, path)
    if expr.startswith("[]"):
        if not isinstance(value, list):
            _fail(value, expr, owner, path)
        for item in value:
            _value(item, expr[2:], owner, path)
    elif expr.startswith("map[string]"):
        if not isinstance(value, dict):
            _fail(value, expr, owner, path)
        for item in value.values():
            _value(item, expr[len("map[string]") :], owner, path)
    elif expr in STRUCTS:
        if not isinstance(value, dict):
            _fail(value, expr, owner, path)
        _struct(value, expr, path + ".")
        return
    else:
        _scalar(value, expr, owner, path)


def _scalar(value: object, expr: str, owner: str, path: str) -> None:
    if expr == "struct {}":
        if not isinstance(value, dict):
            _fail(value, expr, owner, path)
    elif expr == "string" or expr in _NAMED_STRINGS:
        if not isinstance(value, str):
            _fail(value, expr, owner, path)
    elif expr == "bool":
        if not isinstance(value, bool):
            _fail(value, expr, owner, path)
    elif expr in _INTS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            _fail(value, expr, owner, path)
        low, high = _INTS[expr]
        if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
            _fail(value, expr, owner, path, number=True)
        if not low <= int(value) <= high:
            _fail(value, expr, owner, path, number=True)
    else:
        raise AssertionError(f"schema: unknown type {expr!r}")


def _fail(value: object, expr: str, owner: str, path: str, number: bool = False) -> None:
    """Raise Go's UnmarshalTypeError text; with `number` the value is shown (out of range)."""
    shown = f"number {_number(value)}" if number else _kind(value)
    struct_path = f"{owner}.{path}"
    raise InvalidArgument(f"json: cannot unmarshal {shown} into Go struct field {struct_path} of type {expr}")


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)
