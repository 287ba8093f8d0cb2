"""Docker's JSON shapes for containers (ContainerJSON, ContainerSummary), from records."""

from __future__ import annotations

from dockyard.engine.containers import inspectshape
from dockyard.engine.containers.model import ZERO_TIME, Container
from dockyard.engine.containers.mounts import points_of
from dockyard.paths import DataRoot
from dockyard.snapshots.snapshotter import SnapshotPaths
from dockyard.timestamps import parse_rfc3339_nano
from dockyard.units import human_duration


def parse_time(value: str) -> float:
    """Seconds since the epoch of an RFC 3339 time; 0 for "" and the zero time."""
    return parse_rfc3339_nano(value) / 1e9


def status_text(container: Container, now: float) -> str:
    """`Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created`: the ps STATUS column."""
    state = container.state
    if state.status in ("running", "paused"):
        up = f"Up {human_duration(now - parse_time(state.started_at))}"
        if state.status == "paused":
            return up + " (Paused)"
        health = (state.health or {}).get("Status")
        return f"{up} ({'health: starting' if health == 'starting' else health})" if health else up
    if state.status == "restarting":
        return f"Restarting ({state.exit_code}) {human_duration(now - parse_time(state.finished_at))} ago"
    if state.status == "exited":
        if state.finished_at == ZERO_TIME:
            return "Exited"
        return f"Exited ({state.exit_code}) {human_duration(now - parse_time(state.finished_at))} ago"
    return state.status.capitalize()


def _command(container: Container) -> str:
    """ps's COMMAND: the path, then the arguments, those with a space in single quotes (moby's view)."""
    args = [f"'{arg}'" if " " in arg else arg for arg in container.args]
    return " ".join([container.path, *args]).strip()


def ports_summary(container: Container) -> list[dict]:
    """ps's Ports, as dockerd builds them from a running container's port map: none for a
    stopped one, and a port that does not parse is left out (dockerd logs and skips it)."""
    ports: list[dict] = []
    if not container.state.running:
        return ports
    bindings = container.network_settings.get("Ports") or {}
    for port in sorted(set(container.config.get("ExposedPorts") or {}) | set(bindings)):
        number, _, proto = port.partition("/")
        if not number.isdigit():
            continue
        published = bindings.get(port) or []
        if not published:
            ports.append({"PrivatePort": int(number), "Type": proto or "tcp"})
        for binding in published:
            ports.append(
                {
                    "IP": binding.get("HostIp") or "0.0.0.0",
                    "PrivatePort": int(number),
                    "PublicPort": int(binding["HostPort"]),
                    "Type": proto or "tcp",
                }
            )
    return ports


def summary(container: Container, now: float) -> dict:
    return {
        "Id": container.id,
        "Names": ["/" + container.name],
        "Image": container.image,
        "ImageID": container.image_id,
        "Command": _command(container),
        "Created": int(parse_time(container.created)),
        "Ports": ports_summary(container),
        "Labels": container.config.get("Labels") or {},
        "State": container.state.status,
        "Status": status_text(container, now),
        "HostConfig": {"NetworkMode": container.host_config.get("NetworkMode") or "default"},
        "NetworkSettings": {"Networks": _listed_networks(container.network_settings.get("Networks") or {})},
        "Mounts": _listed_mounts(container),
    }


def _listed_networks(networks: dict) -> dict:
    """The endpoints of a ps row: as inspect's, but without Links, Aliases and DNSNames, and
    with only the addresses asked for in IPAMConfig (moby's list view copies just those)."""
    listed = {}
    for name, endpoint in networks.items():
        asked = endpoint.get("IPAMConfig")
        if asked is not None:
            asked = {key: asked[key] for key in ("IPv4Address", "IPv6Address") if asked.get(key)}
        listed[name] = {**endpoint, "IPAMConfig": asked, "Links": None, "Aliases": None, "DNSNames": None}
    return listed


def _listed_mounts(container: Container) -> list[dict]:
    """The Mounts of a ps row: as inspect's, but the Source of a volume declared in
    Config.Volumes stays empty until the container's first start mounts it (dockerd's list
    reads the mount point's own Source, which Binds and Mounts volumes get at create and
    declared ones at their mount, where inspect asks the volume for its path)."""
    never_started = container.state.started_at == ZERO_TIME
    points = [point for point in points_of(container.mounts) if point.listed]
    return [p.to_inspect() | ({"Source": ""} if never_started and p.declared else {}) for p in points]


def inspect(container: Container, root: DataRoot, snapshot: SnapshotPaths) -> dict:
    state, directory = container.state, root.container(container.id)
    return {
        "Id": container.id,
        "Created": container.created,
        "Path": container.path,
        "Args": container.args,
        "State": {
            "Status": state.status,
            "Running": state.status in ("running", "paused"),
            "Paused": state.status == "paused",
            "Restarting": state.status == "restarting",
            "OOMKilled": state.oom_killed,
            "Dead": state.status == "dead",
            "Pid": state.pid if state.running else 0,
            "ExitCode": state.exit_code,
            "Error": state.error,
            "StartedAt": state.started_at,
            "FinishedAt": state.finished_at,
            **({"Health": state.health} if state.health is not None else {}),
        },
        "Image": container.image_id,
        "ResolvConfPath": str(directory / "resolv.conf"),
        "HostnamePath": str(directory / "hostname"),
        "HostsPath": str(directory / "hosts"),
        "LogPath": str(root.container_log(container.id)),
        "Name": "/" + container.name,
        "RestartCount": state.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": inspectshape.host_config(container.host_config),
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {
                "UpperDir": str(snapshot.upper),
                "WorkDir": str(snapshot.work),
                "MergedDir": str(snapshot.rootfs),
            },
        },
        "Mounts": [point.to_inspect() for point in points_of(container.mounts) if point.listed],
        "Config": inspectshape.config(container.config, container.image, {}),
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": "",
            "HairpinMode": False,
            "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0,
            "SandboxKey": "",
            "SecondaryIPAddresses": None,
            "SecondaryIPv6Addresses": None,
            "EndpointID": "",
            "Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "IPAddress": "",
            "IPPrefixLen": 0,
            "IPv6Gateway": "",
            "MacAddress": "",
            "Ports": {},
            "Networks": {},
            **container.network_settings,
        },
    }
