"""The HostConfig fields outside resources and security: the few dockyard refuses (each with
a 400 naming it) and the one it adds to the spec itself (Annotations; GroupAdd is the user's
groups, resolved with the user in specgen for the container and its execs alike).

    StorageOpt     refused in dockerd's words (needs overlay on xfs with pquota)
    Isolation      only "" or "default" on Linux
    DeviceRequests no device drivers (GPUs): refused in dockerd's words
    Cgroup         joining another container's cgroup: refused
    VolumeDriver   only the local driver
    Annotations    the OCI spec's annotations
"""

from __future__ import annotations

from typing import Any

from dockyard.errors import InvalidArgument


def check(host: dict) -> None:
    """Refuse what dockyard does not do. Raises InvalidArgument naming the field."""
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


def apply_to_spec(spec: dict[str, Any], host: dict) -> None:
    """Add the Annotations to a container's spec (in place)."""
    if host.get("Annotations"):
        spec["annotations"] = dict(host["Annotations"])
