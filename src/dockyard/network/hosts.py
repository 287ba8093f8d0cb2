"""The container's /etc/hosts: a pure render and parse, plus `--add-host` values.

Layout (as docker writes it): loopback and IPv6 well-known names, then `--add-host`
entries, then the container's own addresses with its hostname.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.errors import InvalidArgument

HOST_GATEWAY = "host-gateway"
_DEFAULTS = (
    ("127.0.0.1", "localhost"),
    ("::1", "localhost ip6-localhost ip6-loopback"),
    ("fe00::0", "ip6-localnet"),
    ("ff00::0", "ip6-mcastprefix"),
    ("ff02::1", "ip6-allnodes"),
    ("ff02::2", "ip6-allrouters"),
)


@dataclass(frozen=True, slots=True)
class HostEntry:
    """One line of /etc/hosts: an address and its names."""

    ip: str
    names: tuple[str, ...]


def parse_extra_host(raw: str, host_gateway_ip: str | None = None) -> HostEntry:
    """`--add-host name:ip` (or `name=ip`, `name:[v6]`, `name:host-gateway`) as an entry."""
    sep = "=" if "=" in raw else ":"
    name, found, ip = raw.partition(sep)
    if not found or not name or not ip:
        raise InvalidArgument(f'bad format for add-host: "{raw}"')
    if ip == HOST_GATEWAY:
        if not host_gateway_ip:
            raise InvalidArgument("unable to derive the IP value for host-gateway")
        ip = host_gateway_ip
    ip = ip[1:-1] if ip.startswith("[") and ip.endswith("]") else ip
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise InvalidArgument(f"invalid IP address in add-host: {ip!r}") from None
    return HostEntry(ip, (name,))


def render_hosts(
    hostname: str,
    addresses: Iterable[str] = (),
    extra: Iterable[HostEntry] = (),
    domainname: str = "",
) -> str:
    """The whole file: defaults, extra hosts, then each address of the container."""
    lines = [f"{ip}\t{names}" for ip, names in _DEFAULTS]
    lines += [f"{entry.ip}\t{' '.join(entry.names)}" for entry in extra]
    own = (f"{hostname}.{domainname}", hostname) if domainname else (hostname,)
    lines += [f"{ip}\t{' '.join(own)}" for ip in addresses]
    return "\n".join(lines) + "\n"


def parse_hosts(text: str) -> list[HostEntry]:
    """Entries of a hosts file, comments and blank lines skipped."""
    entries = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            entries.append(HostEntry(fields[0], tuple(fields[1:])))
    return entries
