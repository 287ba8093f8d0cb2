"""A container's record turned into what the runtime is handed: the OCI runtime spec
(moby oci_linux.go), the namespaces it shares and how its stdio and log are wired."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dockyard.engine.containers import security
from dockyard.engine.containers.config import process_env
from dockyard.engine.containers.model import Container
from dockyard.engine.containers.mounts import oci_mounts, points_of
from dockyard.engine.containers.rules import size_option
from dockyard.errors import Conflict
from dockyard.runtime import default_profile, devices, seccomp
from dockyard.runtime import spec as oci_spec
from dockyard.runtime.capabilities import host_bounding_set
from dockyard.runtime.runtime import DEFAULT_LOG_MAX_FILES, DEFAULT_LOG_MAX_SIZE, IOConfig
from dockyard.runtime.user import resolve_user_home

GENERATED_FILES = ("hostname", "hosts", "resolv.conf")


def process_for(
    rootfs: Path,
    config: dict,
    args: list[str],
    hostname: str,
    user: str,
    cwd: str,
    tty: bool,
    caps: list[str],
    group_add: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The OCI process for a command run as `user`, with the `--group-add` groups as well, in
    `rootfs` (container init or exec)."""
    uid, gid, groups, home = resolve_user_home(rootfs, user or "0", group_add)
    env = process_env(config, hostname, home)
    return oci_spec.process_spec(
        args, env=env, cwd=cwd or "/", uid=uid, gid=gid, additional_gids=groups, terminal=tty, capabilities=caps
    )


def capabilities(host_config: dict) -> list[str]:
    """The process's capabilities; --privileged gets every one the host's bounding set has."""
    return oci_spec.capability_set(
        security.normalize_capabilities(host_config.get("CapAdd") or [], "CapAdd"),
        security.normalize_capabilities(host_config.get("CapDrop") or [], "CapDrop"),
        bool(host_config.get("Privileged")),
        available=host_bounding_set(),
    )


def seccomp_profile(options: security.SecurityOptions, caps: list[str], privileged: bool) -> dict | None:
    """The OCI linux.seccomp for these capabilities; None when privileged or unconfined."""
    if privileged or options.seccomp is None:
        return None
    if options.seccomp is default_profile.profile():
        return _default_seccomp(tuple(caps))
    return seccomp.oci_profile(options.seccomp, caps)


@functools.lru_cache(maxsize=32)
def _default_seccomp(caps: tuple[str, ...]) -> dict:
    """The default profile resolved for these capabilities, once per set: one document, shared
    by the specs that use it (never changed), so the runtime finds its compiled program at once."""
    return seccomp.oci_profile(default_profile.profile(), list(caps))


def namespaces(container: Container, lookup: Callable[[str], Container]) -> dict[str, str]:
    """Namespace kind -> "host", a /proc/<pid>/ns path of another running container (found
    with `lookup`) to join, or absent (a new one). Raises Conflict, NoSuchContainer."""
    host_config = container.host_config
    modes: dict[str, str] = {}
    network = host_config.get("NetworkMode") or "bridge"
    for kind, mode, word in (
        ("network", network, "network"),
        ("pid", host_config.get("PidMode") or "", "PID"),
        ("ipc", host_config.get("IpcMode") or "", "IPC"),
        ("uts", host_config.get("UTSMode") or "", "UTS"),
        ("cgroup", host_config.get("CgroupnsMode") or "", "cgroup"),
    ):
        if mode == "host":
            modes[kind] = "host"
        elif mode.startswith("container:"):
            other = lookup(mode.partition(":")[2])
            if not other.state.running:
                raise Conflict(f"cannot join {word} of a non running container: {other.id}")
            if kind == "ipc" and (other.host_config.get("IpcMode") or "private") not in ("shareable", "host"):
                raise Conflict("non-shareable IPC (hint: use IpcMode:shareable for the donor container)")
            modes[kind] = f"/proc/{other.state.pid}/ns/{PROC_NS[kind]}"
    return modes


PROC_NS = {"network": "net", "pid": "pid", "ipc": "ipc", "uts": "uts", "cgroup": "cgroup"}


def may_prepare(host: dict) -> bool:
    """Whether a start of a container with this HostConfig can use an init made ahead
    (runtime/sandbox.py): new network, pid, ipc and uts namespaces, Docker's cgroup path and
    device rules, no memory limit. Pure."""
    modes = (host.get("NetworkMode"), host.get("PidMode"), host.get("IpcMode"), host.get("UTSMode"))
    if any(mode == "host" or (mode or "").startswith("container:") for mode in modes):
        return False
    changed = ("CgroupParent", "Memory", "Privileged", "Devices", "DeviceCgroupRules", "DeviceRequests")
    return not any(host.get(name) for name in changed)


def container_spec(
    container: Container, rootfs: Path, container_dir: Path, namespaces: dict[str, str]
) -> dict[str, Any]:
    """The full config.json for starting `container` on the mounted `rootfs`."""
    config, host = container.config, container.host_config
    privileged = bool(host.get("Privileged"))
    options = security.security_options(list(host.get("SecurityOpt") or []))
    caps = capabilities(host)
    nodes, rules = security.container_devices(host)
    if privileged:
        nodes = devices.host_devices() + nodes
    command = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    process = process_for(
        rootfs,
        config,
        command,
        config.get("Hostname") or "",
        config.get("User") or "",
        config.get("WorkingDir") or "/",
        bool(config.get("Tty")),
        caps,
        tuple(host.get("GroupAdd") or ()),
    )
    process["noNewPrivileges"] = options.no_new_privileges
    user_mounts = oci_mounts(points_of(container.mounts))
    taken = {m["destination"] for m in user_mounts}
    mounts = user_mounts + [
        _bind(str(container_dir / n), f"/etc/{n}", False) for n in GENERATED_FILES if f"/etc/{n}" not in taken
    ]
    spec = oci_spec.default_spec(
        process,
        root=str(rootfs),
        hostname=config.get("Hostname") or "",
        readonly_rootfs=bool(host.get("ReadonlyRootfs")),
        namespaces=namespaces,
        mounts=mounts,
        privileged=privileged,
        shm_size=host.get("ShmSize") or oci_spec.DEFAULT_SHM_SIZE,
        cgroups_path=f"dockyard/{container.id}",
        seccomp=seccomp_profile(options, caps, privileged),
        devices=nodes,
        device_rules=rules,
        sysctl=host.get("Sysctls") or None,
        masked_paths=host.get("MaskedPaths") if options.system_paths else [],
        readonly_paths=host.get("ReadonlyPaths") if options.system_paths else [],
    )
    _shared_shm(spec, host.get("IpcMode") or "", namespaces.get("ipc"))
    return spec


def _shared_shm(spec: dict[str, Any], ipc_mode: str, ipc_namespace: str | None) -> None:
    """/dev/shm: the host's with --ipc host, the donor's with container:<id>, none with none."""
    mounts = spec["mounts"]
    index = next(i for i, m in enumerate(mounts) if m["destination"] == "/dev/shm")
    if ipc_mode == "none":
        del mounts[index]
    elif ipc_mode == "host":
        mounts[index] = _bind("/dev/shm", "/dev/shm", False)
    elif ipc_namespace and ipc_namespace.startswith("/proc/"):
        donor_root = ipc_namespace.rsplit("/ns/", 1)[0] + "/root"
        mounts[index] = _bind(f"{donor_root}/dev/shm", "/dev/shm", False)


def io_config(container: Container, log_path: Path) -> IOConfig:
    """The container's stdio (Tty, OpenStdin, StdinOnce) and its json-file log's rotation."""
    options = (container.host_config.get("LogConfig") or {}).get("Config") or {}
    return IOConfig(
        tty=bool(container.config.get("Tty")),
        open_stdin=bool(container.config.get("OpenStdin")),
        stdin_once=bool(container.config.get("StdinOnce")),
        log_path=log_path,
        log_max_size=size_option(options["max-size"]) if "max-size" in options else DEFAULT_LOG_MAX_SIZE,
        log_max_files=int(options.get("max-file", DEFAULT_LOG_MAX_FILES)),
    )


def _bind(source: str, destination: str, readonly: bool) -> dict[str, Any]:
    options = ["rbind", "rprivate"] + (["ro"] if readonly else [])
    return {"destination": destination, "type": "bind", "source": source, "options": options}
