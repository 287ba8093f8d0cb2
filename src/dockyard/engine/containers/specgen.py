"""A container's record turned into what the runtime is handed: the OCI runtime spec
(moby oci_linux.go), the namespaces it shares and how its stdio and log are wired."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dockyard.engine.containers.config import process_env
from dockyard.engine.containers.model import Container
from dockyard.engine.containers.rules import size_option
from dockyard.errors import Conflict, InvalidArgument
from dockyard.runtime import spec as oci_spec
from dockyard.runtime.rootpath import resolve_in_root
from dockyard.runtime.runtime import DEFAULT_LOG_MAX_FILES, DEFAULT_LOG_MAX_SIZE, IOConfig
from dockyard.runtime.user import parse_passwd, resolve_user

GENERATED_FILES = ("hostname", "hosts", "resolv.conf")


def home_of(rootfs: Path, uid: int) -> str:
    """The user's home from the image's /etc/passwd, "/" when it has none."""
    try:
        text = Path(resolve_in_root(str(rootfs), "/etc/passwd")).read_text(errors="replace")
    except OSError:
        return "/"
    return next((entry.home for entry in parse_passwd(text) if entry.uid == uid), "/")


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
    uid, gid, groups = resolve_user(rootfs, user or "0", group_add)
    env = process_env(config, hostname, home_of(rootfs, uid))
    return oci_spec.process_spec(
        args, env=env, cwd=cwd or "/", uid=uid, gid=gid, additional_gids=groups, terminal=tty, capabilities=caps
    )


def capabilities(host_config: dict) -> list[str]:
    return oci_spec.capability_set(
        host_config.get("CapAdd") or (), host_config.get("CapDrop") or (), bool(host_config.get("Privileged"))
    )


def container_spec(
    container: Container, rootfs: Path, container_dir: Path, namespaces: dict[str, str]
) -> dict[str, Any]:
    """The full config.json for starting `container` on the mounted `rootfs`."""
    config, host = container.config, container.host_config
    command = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    process = process_for(
        rootfs,
        config,
        command,
        config.get("Hostname") or "",
        config.get("User") or "",
        config.get("WorkingDir") or "/",
        bool(config.get("Tty")),
        capabilities(host),
        tuple(host.get("GroupAdd") or ()),
    )
    mounts = [_bind(str(container_dir / name), f"/etc/{name}", False) for name in GENERATED_FILES]
    mounts += [_parse_bind(spec) for spec in host.get("Binds") or []]
    mounts += [_tmpfs(dest, opts) for dest, opts in (host.get("Tmpfs") or {}).items()]
    return oci_spec.default_spec(
        process,
        root=str(rootfs),
        hostname=config.get("Hostname") or "",
        readonly_rootfs=bool(host.get("ReadonlyRootfs")),
        namespaces=namespaces,
        mounts=mounts,
        privileged=bool(host.get("Privileged")),
        shm_size=host.get("ShmSize") or oci_spec.DEFAULT_SHM_SIZE,
        cgroups_path=f"dockyard/{container.id}",
    )


def namespaces(container: Container, lookup: Callable[[str], Container]) -> dict[str, str]:
    """The namespaces the container shares: the host's, or (`container:<name>`, found with
    `lookup`) another running container's network. Raises Conflict, NoSuchContainer."""
    mode = container.host_config.get("NetworkMode") or "bridge"
    shared: dict[str, str] = {}
    if mode == "host":
        shared["network"] = "host"
    elif mode.startswith("container:"):
        other = lookup(mode.partition(":")[2])
        if not other.state.running:
            raise Conflict(f"cannot join network of a non running container: {other.id}")
        shared["network"] = f"/proc/{other.state.pid}/ns/net"
    if container.host_config.get("PidMode") == "host":
        shared["pid"] = "host"
    if container.host_config.get("IpcMode") == "host":
        shared["ipc"] = "host"
    if container.host_config.get("UTSMode") == "host":
        shared["uts"] = "host"
    return shared


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


def _parse_bind(spec: str) -> dict[str, Any]:
    """`/host:/ctr[:ro|rw]` (named volumes come with the volumes issue)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0].startswith("/") or not parts[1].startswith("/"):
        raise InvalidArgument(f"invalid volume specification: '{spec}'")
    options = parts[2].split(",") if len(parts) == 3 else []
    return _bind(parts[0], parts[1], "ro" in options)


def _tmpfs(destination: str, options: str) -> dict[str, Any]:
    extra = [o for o in options.split(",") if o] if options else []
    return {"destination": destination, "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", *extra]}
