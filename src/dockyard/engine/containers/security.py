"""A container's security settings from HostConfig, checked at create with Docker's words.

SecurityOpt        seccomp=unconfined|<profile JSON>  no-new-privileges[=bool]
                   systempaths=unconfined  apparmor=unconfined  label=disable
                   (AppArmor and SELinux are not enabled: other values are refused)
CapAdd / CapDrop   names with or without CAP_, any case, or ALL; unknown ones refused
Devices            host node (or a directory of them) must exist; permissions of rwm
DeviceCgroupRules  `c 1:3 rwm`, `b *:* m`
Sysctls            only namespaced ones: net.* (not with the host's network),
                   kernel.shm*/msg*/sem and fs.mqueue.* (not with the host's IPC)
Ipc/Pid/UTS/Cgroupns/UsernsMode, ShmSize   their valid values (Runtime: runtime/runtimes.py)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.runtime import default_profile, devices
from dockyard.runtime.capabilities import ALL_CAPABILITIES, host_bounding_set
from dockyard.runtime.seccomp import ACTIONS, OPERATORS

IPC_SYSCTLS = frozenset(
    "kernel.msgmax kernel.msgmnb kernel.msgmni kernel.sem kernel.shmall kernel.shmmax kernel.shmmni "
    "kernel.shm_rmid_forced".split()
)
IPC_MODES = ("", "none", "private", "shareable", "host")
_PROFILE_KEYS = {"defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "flags", "listenerPath"}


@dataclass(frozen=True, slots=True)
class SecurityOptions:
    """What SecurityOpt asks for: a Docker-format profile (None: unconfined), no_new_privs, masks."""

    seccomp: dict[str, Any] | None = field(default_factory=default_profile.profile)
    no_new_privileges: bool = False
    system_paths: bool = True


def security_options(opts: list[str]) -> SecurityOptions:
    """Parse SecurityOpt as moby's parseSecurityOpt does. Raises InvalidArgument."""
    seccomp: dict[str, Any] | None = default_profile.profile()
    no_new_privileges, system_paths = False, True
    for opt in opts:
        if opt == "systempaths=unconfined":
            system_paths = False
            continue
        key, sep, value = opt.partition("=")
        if not sep and key != "no-new-privileges":
            if ":" not in opt:
                raise InvalidArgument(f'Invalid --security-opt: "{opt}"')
            key, _, value = opt.partition(":")
        if key == "no-new-privileges":
            no_new_privileges = _parse_bool(value, opt) if sep else True
        elif key == "seccomp" and value in ("builtin", "unconfined"):
            seccomp = default_profile.profile() if value == "builtin" else None
        elif key == "seccomp":
            seccomp = load_seccomp_profile(value)
        elif key == "apparmor" and value != "unconfined":
            raise InvalidArgument(f'invalid --security-opt: "{opt}": AppArmor is not enabled on this host')
        elif key == "label" and value != "disable":
            raise InvalidArgument(f'invalid --security-opt: "{opt}": SELinux is not enabled on this host')
        elif key not in ("apparmor", "label"):
            raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
    return SecurityOptions(seccomp, no_new_privileges, system_paths)


def _parse_bool(value: str, opt: str) -> bool:
    words = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}
    if value.lower() not in words:
        raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
    return words[value.lower()]


def load_seccomp_profile(text: str) -> dict[str, Any]:
    """A Docker-format profile from its JSON text, checked. Raises InvalidArgument."""
    try:
        profile = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"Decoding seccomp profile failed: {exc}") from None
    problem = profile_problem(profile)
    if problem:
        raise InvalidArgument(f"Decoding seccomp profile failed: {problem}")
    return profile


def profile_problem(profile: Any) -> str | None:
    """What is wrong with a Docker-format seccomp profile, or None. Pure."""
    if not isinstance(profile, dict):
        return "the profile must be a JSON object"
    unknown = set(profile) - _PROFILE_KEYS
    if unknown:
        return f"unknown field {sorted(unknown)[0]!r}"
    if profile.get("defaultAction") not in ACTIONS:
        return f"unknown or missing defaultAction {profile.get('defaultAction')!r}"
    if profile.get("architectures") and profile.get("archMap"):
        return "both 'architectures' and 'archMap' are specified in the seccomp profile, use either one"
    if not isinstance(profile.get("syscalls") or [], list):
        return "'syscalls' must be a list"
    for index, rule in enumerate(profile.get("syscalls") or []):
        problem = _rule_problem(rule)
        if problem:
            return f"syscalls[{index}]: {problem}"
    return None


def _rule_problem(rule: Any) -> str | None:
    if not isinstance(rule, dict):
        return "a rule must be a JSON object"
    names = rule.get("names") if rule.get("names") is not None else [rule.get("name")]
    if rule.get("name") and rule.get("names"):
        return "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'"
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        return "'names' must be a list of syscall names"
    if rule.get("action") not in ACTIONS:
        return f"unknown action {rule.get('action')!r}"
    if not isinstance(rule.get("errnoRet", 0), int):
        return "'errnoRet' must be a number"
    for arg in rule.get("args") or []:
        if not isinstance(arg, dict) or arg.get("op") not in OPERATORS:
            return f"unknown operator in {arg!r}"
        if not all(isinstance(arg.get(k, 0), int) and arg.get(k, 0) >= 0 for k in ("index", "value", "valueTwo")):
            return f"bad argument condition {arg!r}"
        if arg.get("index", 0) > 5:
            return f"argument index {arg['index']} out of range"
    return None


def normalize_capabilities(names: list[str], field_name: str) -> list[str]:
    """`net_admin`, `CAP_NET_ADMIN`, `ALL` -> Docker's canonical names. Raises InvalidArgument."""
    result = []
    for name in names:
        upper = str(name).upper()
        if upper == "ALL":
            result.append("ALL")
            continue
        full = upper if upper.startswith("CAP_") else "CAP_" + upper
        if full not in ALL_CAPABILITIES:
            raise InvalidArgument(f'invalid {field_name}: unknown capability: "{full}"')
        result.append(full)
    return result


def check_capabilities(host_config: dict) -> None:
    """Unknown names, and added capabilities this host's bounding set lacks, are refused."""
    adds = normalize_capabilities(host_config.get("CapAdd") or [], "CapAdd")
    normalize_capabilities(host_config.get("CapDrop") or [], "CapDrop")
    available = set(host_bounding_set())
    for cap in adds:
        if cap != "ALL" and cap not in available:
            raise InvalidArgument(
                f'invalid CapAdd: capability "{cap}" is not in the bounding set of this host, it cannot be granted'
            )


def container_devices(host_config: dict) -> tuple[list[dict], list[dict]]:
    """(nodes, cgroup rules) for Devices and DeviceCgroupRules. Raises InvalidArgument."""
    nodes: list[dict] = []
    rules: list[dict] = []
    for entry in host_config.get("Devices") or []:
        host = entry.get("PathOnHost") or ""
        inner = entry.get("PathInContainer") or host
        access = entry.get("CgroupPermissions") or "rwm"
        if not re.fullmatch(r"[rwm]{1,3}", access):
            raise InvalidArgument(f"invalid device mode: {access}")
        if not inner.startswith("/"):
            raise InvalidArgument(f"invalid device path in container: {inner}")
        try:
            found = devices.devices_under(host, inner)
        except OSError as exc:
            raise InvalidArgument(
                f'error gathering device information while adding custom device "{host}": {exc.strerror.lower()}'
            ) from None
        nodes += found
        rules += [devices.allow_rule(node, access) for node in found]
    for text in host_config.get("DeviceCgroupRules") or []:
        try:
            rules.append(devices.parse_rule(text))
        except ValueError:
            raise InvalidArgument(f"invalid device cgroup rule format: '{text}'") from None
    return nodes, rules


def sysctl_namespace(key: str) -> str | None:
    """The namespace a sysctl belongs to (ipc, network), or None if not namespaced. Pure."""
    if key in IPC_SYSCTLS or key.startswith("fs.mqueue."):
        return "ipc"
    if key.startswith("net."):
        return "network"
    return None


def check_sysctls(host_config: dict) -> None:
    """Only sysctls of a namespace the container has of its own. Raises InvalidArgument."""
    for key in host_config.get("Sysctls") or {}:
        kind = sysctl_namespace(key)
        if kind is None or "/" in key or ".." in key:
            raise InvalidArgument(f'sysctl "{key}" is not in a separate kernel namespace')
        if kind == "network" and (host_config.get("NetworkMode") or "") == "host":
            raise InvalidArgument(f'sysctl "{key}" not allowed in host network namespace')
        if kind == "ipc" and (host_config.get("IpcMode") or "") == "host":
            raise InvalidArgument(f'sysctl "{key}" is not allowed in the hosts ipc namespace')


def check_modes(host_config: dict) -> None:
    """IpcMode, PidMode, UTSMode, CgroupnsMode, UsernsMode and ShmSize values."""
    ipc, pid = host_config.get("IpcMode") or "", host_config.get("PidMode") or ""
    if ipc not in IPC_MODES and not _container_mode(ipc):
        raise InvalidArgument(f"invalid IPC mode: {ipc}")
    if pid not in ("", "host") and not _container_mode(pid):
        raise InvalidArgument(f"invalid PID mode: {pid}")
    if (host_config.get("UTSMode") or "") not in ("", "host"):
        raise InvalidArgument(f"invalid UTS mode: {host_config['UTSMode']}")
    if (host_config.get("CgroupnsMode") or "") not in ("", "host", "private"):
        raise InvalidArgument(f"invalid cgroup namespace mode: {host_config['CgroupnsMode']}")
    userns = host_config.get("UsernsMode") or ""
    if userns == "private":
        raise InvalidArgument("invalid USER mode: private: user namespace remapping is not enabled (userns-remap)")
    if userns not in ("", "host"):
        raise InvalidArgument(f"invalid USER mode: {userns}")
    if (host_config.get("ShmSize") or 0) < 0:
        raise InvalidArgument("SHM size can not be less than 0")


def _container_mode(mode: str) -> bool:
    return mode.startswith("container:") and len(mode) > len("container:")


def check_security(host_config: dict) -> None:
    """Every check above, at create: a bad request starts nothing. Raises InvalidArgument."""
    security_options(list(host_config.get("SecurityOpt") or []))
    check_capabilities(host_config)
    container_devices(host_config)
    check_sysctls(host_config)
    check_modes(host_config)
    for key in ("MaskedPaths", "ReadonlyPaths"):
        paths = host_config.get(key)
        if paths is not None and not (isinstance(paths, list) and all(str(p).startswith("/") for p in paths)):
            raise InvalidArgument(f"invalid {key}: {paths!r}: a list of absolute paths")
