"""Build the OCI runtime-spec `config.json` document Docker would hand to runc. Pure.

Defaults (moby `oci/defaults.go`, runc `libcontainer/SPEC.md`):

    namespaces    mount pid uts ipc network cgroup   each: new, joined by `path`, or absent (host)
    mounts        /proc            proc     nosuid noexec nodev
                  /dev             tmpfs    nosuid strictatime mode=755 size=65536k
                  /dev/pts         devpts   nosuid noexec newinstance ptmxmode=0666 mode=0620 gid=5
                  /sys             sysfs    nosuid noexec nodev ro
                  /sys/fs/cgroup   cgroup   ro nosuid noexec nodev
                  /dev/mqueue      mqueue   nosuid noexec nodev
                  /dev/shm         tmpfs    nosuid noexec nodev mode=1777 size=65536k
    devices       null zero full random urandom tty (+ links fd stdin stdout stderr ptmx core)
    capabilities  CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP
                  SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE   (bounding = effective
                  = permitted; inheritable and ambient empty)
    maskedPaths   /proc/asound /proc/acpi /proc/interrupts /proc/kcore /proc/keys
                  /proc/latency_stats /proc/timer_list /proc/timer_stats /proc/sched_debug
                  /proc/scsi /sys/firmware /sys/devices/virtual/powercap
    readonlyPaths /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger
    process       cwd "/", uid 0 gid 0, noNewPrivileges false, terminal as asked

`privileged` keeps every capability, drops the masks and mounts /sys and cgroups read-write.
`linux.resources` starts with Docker's device cgroup rules (deny all, then allow the
standard devices); memory, pids and cpu limits and `linux.seccomp` are carried through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.runtime.capabilities import ALL_CAPABILITIES, DEFAULT_CAPABILITIES
from dockyard.runtime.cgroups.devices import DEFAULT_RULES as DEFAULT_DEVICE_RULES

NAMESPACES = ("mount", "pid", "uts", "ipc", "network", "cgroup")

MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

DEFAULT_SHM_SIZE = 64 * 1024 * 1024


def _mount(destination: str, fstype: str, source: str, *options: str) -> dict[str, Any]:
    return {"destination": destination, "type": fstype, "source": source, "options": list(options)}


def default_mounts(privileged: bool = False, shm_size: int = DEFAULT_SHM_SIZE) -> list[dict[str, Any]]:
    """Docker's standard mounts, in the order they are performed."""
    sys_mode = "rw" if privileged else "ro"
    return [
        _mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
        _mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
        _mount(
            "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"
        ),
        _mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", sys_mode),
        _mount("/sys/fs/cgroup", "cgroup", "cgroup", sys_mode, "nosuid", "noexec", "nodev"),
        _mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
        _mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", f"size={shm_size // 1024}k"),
    ]


def normalize_capability(name: str) -> str:
    """`net_admin` / `NET_ADMIN` / `CAP_NET_ADMIN` -> `CAP_NET_ADMIN`; raises on unknown names."""
    upper = name.upper()
    full = upper if upper.startswith("CAP_") else "CAP_" + upper
    if full not in ALL_CAPABILITIES:
        raise InvalidArgument(f"unknown capability: {name!r}")
    return full


def capability_set(
    cap_add: Sequence[str] = (),
    cap_drop: Sequence[str] = (),
    privileged: bool = False,
    available: Sequence[str] = ALL_CAPABILITIES,
) -> list[str]:
    """Docker's defaults adjusted by --cap-add / --cap-drop (`ALL` allowed in either).

    `--privileged` and `--cap-add ALL` grant every capability in `available` (the host's
    bounding set: a capability the host lacks cannot be granted, and asking for it fails).
    """
    if privileged:
        return [c for c in ALL_CAPABILITIES if c in available]
    adds = {c.upper() for c in cap_add}
    drops = {c.upper() for c in cap_drop}
    base = set(available) if "ALL" in adds else set(DEFAULT_CAPABILITIES)
    if "ALL" in drops:
        base = set()
    base |= {normalize_capability(c) for c in adds - {"ALL"}}
    base -= {normalize_capability(c) for c in drops - {"ALL"}}
    return [c for c in ALL_CAPABILITIES if c in base]


def process_spec(
    args: Sequence[str],
    *,
    env: Sequence[str] = (),
    cwd: str = "/",
    uid: int = 0,
    gid: int = 0,
    additional_gids: Sequence[int] = (),
    terminal: bool = False,
    capabilities: Sequence[str] = DEFAULT_CAPABILITIES,
    no_new_privileges: bool = False,
    rlimits: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The OCI `process` object, for a container's init or for an exec."""
    if not args:
        raise InvalidArgument("no command specified")
    if not cwd.startswith("/"):
        raise InvalidArgument(f"the working directory '{cwd}' is invalid, it needs to be an absolute path")
    user: dict[str, Any] = {"uid": uid, "gid": gid}
    if additional_gids:
        user["additionalGids"] = list(additional_gids)
    caps = list(capabilities)
    return {
        "terminal": terminal,
        "user": user,
        "args": list(args),
        "env": list(env),
        "cwd": cwd,
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "rlimits": [dict(r) for r in rlimits],
        "noNewPrivileges": no_new_privileges,
    }


def namespace_list(modes: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """`modes` maps a kind to "private" (default), "host" (left out) or a path to join."""
    modes = dict(modes or {})
    unknown = set(modes) - set(NAMESPACES)
    if unknown:
        raise InvalidArgument(f"unknown namespace type: {sorted(unknown)[0]}")
    result = []
    for kind in NAMESPACES:
        mode = modes.get(kind, "private")
        if mode == "host":
            continue
        entry = {"type": kind}
        if mode != "private":
            entry["path"] = mode
        result.append(entry)
    return result


def _device_rules(privileged: bool, extra: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if privileged:
        return [{"allow": True, "access": "rwm"}]
    return [dict(rule) for rule in (*DEFAULT_DEVICE_RULES, *extra)]


def default_spec(
    process: Mapping[str, Any],
    *,
    root: str,
    hostname: str = "",
    readonly_rootfs: bool = False,
    namespaces: Mapping[str, str] | None = None,
    mounts: Sequence[Mapping[str, Any]] = (),
    privileged: bool = False,
    shm_size: int = DEFAULT_SHM_SIZE,
    cgroups_path: str = "",
    resources: Mapping[str, Any] | None = None,
    seccomp: Mapping[str, Any] | None = None,
    devices: Sequence[Mapping[str, Any]] = (),
    device_rules: Sequence[Mapping[str, Any]] = (),
    sysctl: Mapping[str, str] | None = None,
    masked_paths: Sequence[str] | None = None,
    readonly_paths: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A full config.json for one container; `mounts` (binds, volumes, tmpfs) come last.

    `devices` are OCI `linux.devices` nodes made in /dev, `device_rules` extra cgroup
    rules after Docker's; `masked_paths` and `readonly_paths` replace Docker's lists
    (HostConfig.MaskedPaths/ReadonlyPaths, [] for systempaths=unconfined).
    """
    linux: dict[str, Any] = {
        "namespaces": namespace_list(namespaces),
        "maskedPaths": [] if privileged else list(MASKED_PATHS if masked_paths is None else masked_paths),
        "readonlyPaths": [] if privileged else list(READONLY_PATHS if readonly_paths is None else readonly_paths),
        "resources": {"devices": _device_rules(privileged, device_rules), **(resources or {})},
    }
    if devices:
        linux["devices"] = [dict(d) for d in devices]
    if sysctl:
        linux["sysctl"] = dict(sysctl)
    if cgroups_path:
        linux["cgroupsPath"] = cgroups_path
    if seccomp is not None:
        linux["seccomp"] = dict(seccomp)
    return {
        "ociVersion": "1.1.0",
        "process": dict(process),
        "root": {"path": root, "readonly": readonly_rootfs},
        "hostname": hostname,
        "mounts": default_mounts(privileged, shm_size) + [dict(m) for m in mounts],
        "linux": linux,
    }
