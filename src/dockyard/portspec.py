"""Port specs as docker writes them: `-p [ip:][hostPort:]containerPort[/proto]` and `--expose` (pure).

The one parser of that syntax: the CLI turns flags into Config.ExposedPorts and
HostConfig.PortBindings with it (docker's nat.ParsePortSpecs), and the network package reads
PortBindings with `split_proto`, `parse_range` and `check_host_ip`. Kept to the stdlib's
cheapest imports: the CLI loads it at start-up.
"""

from __future__ import annotations

import socket

from dockyard.errors import InvalidArgument

PROTOCOLS = ("tcp", "udp", "sctp")


def split_proto(raw: str) -> tuple[str, str]:
    """`"80/udp"` -> ("80", "udp"); the protocol defaults to tcp, any case.

    Raises InvalidArgument: no port, or a protocol other than tcp, udp and sctp.
    """
    port, _, proto = raw.partition("/")
    if not port:
        raise InvalidArgument(f"no port specified: {raw}<empty>")
    proto = proto.lower() or "tcp"
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid proto: {proto}")
    return port, proto


def parse_range(raw: str) -> tuple[int, int]:
    """`"8000-8010"` -> (8000, 8010); one port gives (p, p). Raises ValueError."""
    start, sep, end = raw.partition("-")
    if not start.isdigit() or (sep and not end.isdigit()):
        raise ValueError(raw)
    low, high = int(start), int(end) if sep else int(start)
    if high > 65535 or low > high:
        raise ValueError(raw)
    return low, high


def parse_port_spec(raw: str) -> list[tuple[str, str, str]]:
    """One `-p` value -> [("80/tcp", host_ip, host_port), ...], as docker's nat.ParsePortSpec.

    A container range maps onto a host range of the same length; one container port with a
    host range keeps the range ("8000-8010") for the daemon to pick a free port in.

    Raises InvalidArgument with docker's wording ("invalid containerPort: x", ...).
    """
    ip, host, container = _split_parts(raw.strip())
    container, proto = split_proto(container)
    ip = check_host_ip(ip)
    try:
        start, end = parse_range(container)
    except ValueError:
        raise InvalidArgument(f"invalid containerPort: {container}") from None
    if start == 0:
        raise InvalidArgument(f"invalid containerPort: {container}")
    if not host:
        return [(f"{port}/{proto}", ip, "") for port in range(start, end + 1)]
    try:
        host_start, host_end = parse_range(host)
    except ValueError:
        raise InvalidArgument(f"invalid hostPort: {host}") from None
    if start == end:
        return [(f"{start}/{proto}", ip, f"{host_start}-{host_end}" if host_start != host_end else str(host_start))]
    if end - start != host_end - host_start:
        raise InvalidArgument(f"invalid ranges specified for container and host Ports: {container} and {host}")
    return [(f"{start + i}/{proto}", ip, str(host_start + i)) for i in range(end - start + 1)]


def parse_port_specs(specs: list[str]) -> tuple[dict[str, dict[str, str]], dict[str, list[dict[str, str]]]]:
    """Every `-p` value -> (Config.ExposedPorts, HostConfig.PortBindings), as nat.ParsePortSpecs."""
    exposed: dict[str, dict[str, str]] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for spec in specs:
        for key, ip, host_port in parse_port_spec(spec):
            exposed[key] = {}
            bindings.setdefault(key, []).append({"HostIp": ip, "HostPort": host_port})
    return exposed, bindings


def parse_expose(spec: str) -> list[str]:
    """One `--expose` value (`7000-7001`, `99/udp`) -> ["7000/tcp", "7001/tcp"]."""
    if ":" in spec:
        raise InvalidArgument(f"invalid port format for --expose: {spec}")
    port, proto = split_proto(spec)
    try:
        start, end = parse_range(port)
    except ValueError:
        raise InvalidArgument(f"invalid range format for --expose: {spec}") from None
    return [f"{p}/{proto}" for p in range(start, end + 1)]


def _split_parts(raw: str) -> tuple[str, str, str]:
    """`ip:host:container` | `host:container` | `container`; an IPv6 ip keeps its colons."""
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def check_host_ip(ip: str) -> str:
    """The host IP without IPv6 brackets. Raises InvalidArgument when it is not an address."""
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    if ip and not _is_address(ip):
        raise InvalidArgument(f"invalid IP address: {ip}")
    return ip


def _is_address(text: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text)
            return True
        except OSError:
            continue
    return False
