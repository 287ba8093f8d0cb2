"""Published ports in the Engine API's forms (pure).

Reads HostConfig.PortBindings into `PortSpec`s (what to publish), and renders granted
`PortBinding`s as NetworkSettings.Ports and `docker port` lines. The `-p` syntax itself is
parsed once, in dockyard.portspec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dockyard.errors import InvalidArgument
from dockyard.portspec import check_host_ip, parse_range, split_proto


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


def parse_port_bindings(
    bindings: Mapping[str, list[Mapping[str, str]] | None] | None,
    exposed: Iterable[str] = (),
    publish_all: bool = False,
) -> list[PortSpec]:
    """HostConfig.PortBindings (+ ExposedPorts when PublishAllPorts, i.e. `-P`) as specs."""
    specs: list[PortSpec] = []
    for key, hosts in (bindings or {}).items():
        port, proto = split_proto(key)
        container = _port_number(port)
        for host in hosts or [{}]:
            ip = check_host_ip((host or {}).get("HostIp", "") or "")
            host_port = (host or {}).get("HostPort", "") or ""
            low, high = _host_range(host_port)
            specs.append(PortSpec(container, proto, ip, low, high if high != low else 0))
    if publish_all:
        named = {spec.key for spec in specs}
        for key in exposed:
            port, proto = split_proto(key)
            if f"{int(port)}/{proto}" not in named:
                specs.append(PortSpec(_port_number(port), proto))
    return specs


def _port_number(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) <= 65535:
        raise InvalidArgument(f'invalid port specification: "{raw}"')  # moby's words, as the API answers
    return int(raw)


def _host_range(raw: str) -> tuple[int, int]:
    if not raw:
        return 0, 0
    try:
        return parse_range(raw)
    except ValueError:
        raise InvalidArgument(f'invalid port specification: "{raw}"') from None


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
