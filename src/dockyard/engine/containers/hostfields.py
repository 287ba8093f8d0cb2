"""The HostConfig fields outside resources and security: the few dockyard refuses (each with
a 400 naming it) and the two it adds to the spec itself (GroupAdd, Annotations).

    Links          legacy links: refused (user-defined networks resolve names)
    StorageOpt     refused in dockerd's words (needs overlay on xfs with pquota)
    Isolation      only "" or "default" on Linux
    DeviceRequests no device drivers (GPUs): refused in dockerd's words
    Cgroup         joining another container's cgroup: refused
    VolumeDriver   only the local driver
    GroupAdd       names or gids from the image's /etc/group, added to the process's groups
    Annotations    the OCI spec's annotations
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.runtime.user import parse_group, read_in_root


def check(host: dict) -> None:
    """Refuse what dockyard does not do. Raises InvalidArgument naming the field."""
    if host.get("Links"):
        raise InvalidArgument("Links: legacy container links are not supported by dockyard; use a user-defined network")
    if host.get("StorageOpt"):
        raise InvalidArgument("--storage-opt is supported only for overlay over xfs with 'pquota' mount option")
    if (host.get("Isolation") or "default") != "default":
        raise InvalidArgument(f"Invalid isolation: \"{host['Isolation']}\" - linux only supports 'default'")
    for request in host.get("DeviceRequests") or ():
        caps = " ".join("[" + " ".join(c) + "]" for c in request.get("Capabilities") or [])
        raise InvalidArgument(
            f'could not select device driver "{request.get("Driver") or ""}" with capabilities: [{caps}]'
        )
    if host.get("Cgroup"):
        raise InvalidArgument("Cgroup: joining another container's cgroup is not supported by dockyard")
    driver = host.get("VolumeDriver") or "local"
    if driver != "local":
        raise InvalidArgument(f'error looking up volume plugin {driver}: plugin "{driver}" not found')


def group_ids(rootfs: Path, names: list[str]) -> list[int]:
    """GroupAdd entries (names or numbers) as gids from the image. Raises InvalidArgument."""
    groups = parse_group(read_in_root(rootfs, "/etc/group"))
    result = []
    for name in names:
        found = next((g.gid for g in groups if g.name == name), None)
        if found is None and not name.isdigit():
            raise InvalidArgument(f"Unable to find group {name}: no matching entries in group file")
        result.append(found if found is not None else int(name))
    return result


def apply_to_spec(spec: dict[str, Any], host: dict, rootfs: Path) -> None:
    """Add GroupAdd's groups and the Annotations to a container's spec (in place)."""
    if host.get("GroupAdd"):
        user = spec["process"]["user"]
        extra = group_ids(rootfs, host["GroupAdd"])
        user["additionalGids"] = list(dict.fromkeys([*user.get("additionalGids", []), *extra]))
    if host.get("Annotations"):
        spec["annotations"] = dict(host["Annotations"])
