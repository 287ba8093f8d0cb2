"""Published ports: `-p [ip:][hostPort:]containerPort[/proto]` and the Engine API forms.

Pure: parses docker's flag syntax and HostConfig.PortBindings into `PortSpec`s (what to
publish), and renders granted `PortBinding`s as NetworkSettings.Ports and `docker port` lines.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dockyard.errors import InvalidArgument

PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One container port to publish, and where on the host (0 = any free port)."""

    container_port: int
    proto: str = "tcp"
    host_ip: str = ""  # "" means every host address (0.0.0.0)
    host_port: int = 0  # 0: pick a free port
    host_port_end: int = 0  # > host_port: pick a free port in [host_port, host_port_end]

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"


@dataclass(frozen=True, slots=True)
class PortBinding:
    """A port that was published: host_ip:host_port forwards to the container's port."""

    container_port: int
    proto: str
    host_ip: str
    host_port: int

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"


def split_proto(raw: str) -> tuple[str, str]:
    """`"80/udp"` -> ("80", "udp"); the protocol defaults to tcp."""
    port, _, proto = raw.partition("/")
    if not port:
        raise InvalidArgument(f"no port specified: {raw}<empty>")
    proto = proto.lower() or "tcp"
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid proto: {proto}")
    return port, proto


def parse_range(raw: str) -> tuple[int, int]:
    """`"8000-8010"` -> (8000, 8010); a single port gives (p, p)."""
    start, sep, end = raw.partition("-")
    if not start.isdigit() or (sep and not end.isdigit()):
        raise ValueError(raw)
    low, high = int(start), int(end) if sep else int(start)
    if high > 65535 or low > high:
        raise ValueError(raw)
    return low, high


def _split_ip(raw: str) -> tuple[str, str, str]:
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _check_ip(ip: str) -> str:
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise InvalidArgument(f"invalid IP address: {ip}") from None
    return ip


def parse_port_spec(raw: str) -> list[PortSpec]:
    """Parse one `-p` value as docker does, ranges expanded to one spec per container port.

    Raises InvalidArgument with docker's wording ("invalid containerPort: x", ...).
    """
    ip, host, container = _split_ip(raw.strip())
    container, proto = split_proto(container)
    ip = _check_ip(ip)
    try:
        start, end = parse_range(container)
    except ValueError:
        raise InvalidArgument(f"invalid containerPort: {container}") from None
    if start == 0:
        raise InvalidArgument(f"invalid containerPort: {container}")
    host_start = host_end = 0
    if host:
        try:
            host_start, host_end = parse_range(host)
        except ValueError:
            raise InvalidArgument(f"invalid hostPort: {host}") from None
        if end - start != host_end - host_start and end != start:
            raise InvalidArgument(f"invalid ranges specified for container and host Ports: {container} and {host}")
    if end == start:
        high = host_end if host_end != host_start else 0
        return [PortSpec(start, proto, ip, host_start, high)]
    return [PortSpec(start + i, proto, ip, host_start + i if host else 0) for i in range(end - start + 1)]


def parse_port_bindings(
    bindings: Mapping[str, list[Mapping[str, str]] | None] | None,
    exposed: Iterable[str] = (),
    publish_all: bool = False,
) -> list[PortSpec]:
    """HostConfig.PortBindings (+ ExposedPorts when PublishAllPorts, i.e. `-P`) as specs."""
    specs: list[PortSpec] = []
    for key, hosts in (bindings or {}).items():
        port, proto = split_proto(key)
        container = _port_number(port, "containerPort")
        for host in hosts or [{}]:
            ip = _check_ip((host or {}).get("HostIp", "") or "")
            host_port = (host or {}).get("HostPort", "") or ""
            low, high = _host_range(host_port)
            specs.append(PortSpec(container, proto, ip, low, high if high != low else 0))
    if publish_all:
        named = {spec.key for spec in specs}
        for key in exposed:
            port, proto = split_proto(key)
            if f"{int(port)}/{proto}" not in named:
                specs.append(PortSpec(_port_number(port, "containerPort"), proto))
    return specs


def _port_number(raw: str, what: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) <= 65535:
        raise InvalidArgument(f"invalid {what}: {raw}")
    return int(raw)


def _host_range(raw: str) -> tuple[int, int]:
    if not raw:
        return 0, 0
    try:
        return parse_range(raw)
    except ValueError:
        raise InvalidArgument(f"invalid hostPort: {raw}") from None


def ports_json(bindings: Iterable[PortBinding], exposed: Iterable[str] = ()) -> dict[str, list[dict[str, str]] | None]:
    """NetworkSettings.Ports: every exposed port, with its host bindings or null."""
    ports: dict[str, list[dict[str, str]] | None] = {key: None for key in exposed}
    for binding in bindings:
        entry = {"HostIp": binding.host_ip or "0.0.0.0", "HostPort": str(binding.host_port)}
        ports.setdefault(binding.key, None)
        ports[binding.key] = (ports[binding.key] or []) + [entry]
    return ports


def port_lines(bindings: Iterable[PortBinding], key: str | None = None) -> list[str]:
    """`docker port` output: `80/tcp -> 0.0.0.0:8080`, optionally only for one port."""
    wanted = None if key is None else (key if "/" in key else f"{key}/tcp")
    return [
        f"{b.key} -> {b.host_ip or '0.0.0.0'}:{b.host_port}"
        for b in sorted(bindings, key=lambda b: (b.container_port, b.proto, b.host_ip, b.host_port))
        if wanted is None or b.key == wanted
    ]
