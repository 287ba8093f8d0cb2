"""Port specs as docker's `-p`/`--expose` accept them, and the PORTS column of `ps` (pure)."""

from __future__ import annotations

from dockyard.errors import InvalidArgument

PROTOCOLS = ("tcp", "udp", "sctp")


def _port_range(text: str, spec: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise InvalidArgument(f"invalid containerPort: {text}") from None
    if not (0 < first <= last <= 65535):
        raise InvalidArgument(f"invalid port range: {text} in {spec!r}")
    return first, last


def _split_proto(spec: str) -> tuple[str, str]:
    port, _, proto = spec.rpartition("/") if "/" in spec else (spec, "", "tcp")
    proto = proto.lower() or "tcp"
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid proto: {proto}")
    return port, proto


def _split_host(rest: str) -> tuple[str, str, str]:
    """'ip:host:container' | 'host:container' | 'container' -> (ip, host, container)."""
    if rest.startswith("["):
        ip, _, tail = rest[1:].partition("]")
        host, _, container = tail.lstrip(":").rpartition(":")
        return ip, host, container
    parts = rest.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    ip, host, container = ":".join(parts[:-2]), parts[-2], parts[-1]
    return ip, host, container


def parse_publish(spec: str) -> list[tuple[str, dict[str, str]]]:
    """One `-p` value -> [('80/tcp', {'HostIp': .., 'HostPort': ..}), ...]."""
    rest, proto = _split_proto(spec)
    ip, host, container = _split_host(rest)
    if not container:
        raise InvalidArgument(f"no port specified: {spec}<empty>")
    first, last = _port_range(container, spec)
    count = last - first + 1
    host_ports: list[str] = [host] * count
    if host:
        hfirst, hlast = _port_range(host, spec)
        if hlast - hfirst + 1 == count:
            host_ports = [str(hfirst + i) for i in range(count)]
        elif count != 1:
            raise InvalidArgument(f"invalid ranges specified for container and host Ports: {container} and {host}")
    return [(f"{first + i}/{proto}", {"HostIp": ip, "HostPort": host_ports[i]}) for i in range(count)]


def parse_expose(spec: str) -> list[str]:
    """One `--expose` value -> ['7000/tcp', '7001/tcp']."""
    port, proto = _split_proto(spec)
    first, last = _port_range(port, spec)
    return [f"{p}/{proto}" for p in range(first, last + 1)]


def port_bindings(specs: list[str]) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """All `-p` values -> (HostConfig.PortBindings, Config.ExposedPorts)."""
    bindings: dict[str, list[dict]] = {}
    exposed: dict[str, dict] = {}
    for spec in specs:
        for port, binding in parse_publish(spec):
            bindings.setdefault(port, []).append(binding)
            exposed[port] = {}
    return bindings, exposed


def _join_host(ip: str, port: str) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def display_ports(ports: list[dict]) -> str:
    """The PORTS column: '0.0.0.0:8080->80/tcp, 9988/tcp', consecutive ports grouped into ranges."""
    ordered = sorted(
        ports, key=lambda p: (p.get("PrivatePort", 0), p.get("IP", ""), p.get("PublicPort", 0), p.get("Type", ""))
    )
    groups: dict[str, list[int]] = {}
    result: list[str] = []
    mappings: list[str] = []
    for port in ordered:
        private, kind, ip = port.get("PrivatePort", 0), port.get("Type", "tcp"), port.get("IP", "")
        key = kind
        if ip:
            if port.get("PublicPort") != private:
                mappings.append(f"{_join_host(ip, str(port.get('PublicPort', 0)))}->{private}/{kind}")
                continue
            key = f"{ip}/{kind}"
        group = groups.get(key)
        if group is not None and private == group[1] + 1:
            group[1] = private
            continue
        if group is not None:
            result.append(_form_group(key, *group))
        groups[key] = [private, private]
    result.extend(_form_group(key, *group) for key, group in groups.items())
    return ", ".join(result + mappings)


def _form_group(key: str, first: int, last: int) -> str:
    ip, _, kind = key.rpartition("/")
    group = str(first) if first == last else f"{first}-{last}"
    if ip:
        group = f"{_join_host(ip, group)}->{group}"
    return f"{group}/{kind}"
