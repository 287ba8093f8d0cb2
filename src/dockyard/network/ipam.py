"""IP address management: pick subnets that clash with nothing, and free addresses in them.

Pure: the caller passes what is taken (host routes, other networks, allocated addresses);
the metadata tables make an allocation durable and unique (UNIQUE(network_id, ip)).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from dockyard.errors import Forbidden, InvalidArgument, Unavailable

# Docker's default local pools: 172.17-31.0.0/16, then 192.168.0.0/16 cut into /20s.
DEFAULT_POOLS: tuple[tuple[str, int], ...] = (
    ("172.18.0.0/15", 16),
    ("172.20.0.0/14", 16),
    ("172.24.0.0/13", 16),
    ("192.168.0.0/16", 20),
)


def parse_subnet(raw: str) -> IPv4Network:
    """`10.1.0.0/24` -> network; host bits set are an error, as in docker."""
    try:
        subnet = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid CIDR address: {raw}") from None
    if not isinstance(subnet, IPv4Network):
        raise InvalidArgument(f"IPv6 subnets are not supported by dockyard's bridge driver: {raw}")
    if subnet.prefixlen > 30:
        raise InvalidArgument(f"subnet {raw} is too small: at least a /30 is needed")
    return subnet


def parse_gateway(raw: str | None, subnet: IPv4Network, ip_range: IPv4Network | None = None) -> IPv4Address:
    """The gateway given, checked to be a host address of the subnet; else the first address
    handed out: the subnet's first host, or the IPRange's first address (libnetwork takes the
    gateway from the range as it would a container's address)."""
    if not raw:
        return next(subnet.hosts()) if ip_range is None else next_address(subnet, subnet.network_address, [], ip_range)
    try:
        gateway = IPv4Address(raw)
    except ValueError:
        raise InvalidArgument(f"invalid gateway address {raw}") from None
    if gateway not in subnet or gateway in (subnet.network_address, subnet.broadcast_address):
        raise InvalidArgument(f"no matching subnet for gateway {raw}")
    return gateway


def check_overlap(subnet: IPv4Network, taken: Iterable[IPv4Network]) -> None:
    """Raise docker's Forbidden (403) when `subnet` overlaps a network already in use."""
    for other in taken:
        if subnet.overlaps(other):
            raise Forbidden("Pool overlaps with other one on this address space")


def choose_subnet(taken: Iterable[IPv4Network], pools: Iterable[tuple[str, int]] = DEFAULT_POOLS) -> IPv4Network:
    """The first pool subnet that overlaps nothing taken (routes, docker0, our networks)."""
    taken = [net for net in taken if net.prefixlen > 0]  # a default route clashes with nothing
    for pool, size in pools:
        for candidate in ipaddress.ip_network(pool).subnets(new_prefix=size):
            if not any(candidate.overlaps(net) for net in taken):
                return candidate
    raise Unavailable(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
    )


def adoptable(
    existing: Iterable[IPv4Interface], wanted: IPv4Network | None, ours: Iterable[IPv4Network]
) -> IPv4Interface | None:
    """The address a bridge left by an earlier daemon already has, if the default network may keep it.

    Kept when it is what `wanted` (daemon.json `bip`) asks for, or nothing is asked and it
    clashes with none of `ours`; otherwise None, and the bridge gets a fresh address instead
    of a second one, so no start ever adds a subnet to a bridge.
    """
    for address in existing:
        if address.network.prefixlen > 30 or address.ip in (
            address.network.network_address,
            address.network.broadcast_address,
        ):
            continue
        if wanted is not None:
            if address.network == wanted and address.ip == next(wanted.hosts()):
                return address
            continue
        if not any(address.network.overlaps(other) for other in ours):
            return address
    return None


def parse_ip_range(raw: str | None, subnet: IPv4Network) -> IPv4Network | None:
    """IPAM's IPRange: the part of the subnet that addresses are handed out from."""
    if not raw:
        return None
    try:
        ip_range = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid CIDR address: {raw}") from None
    if not isinstance(ip_range, IPv4Network) or not ip_range.subnet_of(subnet):
        raise InvalidArgument(f"invalid ip-range {raw}: it must be within subnet {subnet}")
    return ip_range


def parse_aux_addresses(raw: dict[str, str] | None, subnet: IPv4Network) -> dict[str, IPv4Address]:
    """IPAM's AuxiliaryAddresses: named addresses of the subnet that are never handed out."""
    parsed = {}
    for name, text in (raw or {}).items():
        try:
            address = IPv4Address(text)
        except ValueError:
            raise InvalidArgument(f"invalid auxiliary address {name}={text}") from None
        if address not in subnet:
            raise InvalidArgument(f"auxiliary address {name}={text} is not within subnet {subnet}")
        parsed[name] = address
    return parsed


def next_address(
    subnet: IPv4Network,
    gateway: IPv4Address,
    allocated: Iterable[IPv4Address],
    ip_range: IPv4Network | None = None,
    reserved: Iterable[IPv4Address] = (),
) -> IPv4Address:
    """The lowest address of the range (the subnet's hosts without one) that is neither the
    gateway, nor reserved (auxiliary), nor allocated."""
    used = set(allocated) | set(reserved) | {gateway, subnet.network_address, subnet.broadcast_address}
    for address in ip_range if ip_range is not None else subnet.hosts():
        if address not in used:
            return address
    raise Unavailable(f"no available IPv4 addresses on this network's address pools: {ip_range or subnet}")


def check_requested(
    ip: str, subnet: IPv4Network, gateway: IPv4Address, allocated: Iterable[IPv4Address]
) -> IPv4Address:
    """Validate a user-requested address (`--ip`): in the subnet (an IPRange only limits the
    addresses handed out, as in libnetwork), not the gateway, free (auxiliary ones count as taken)."""
    try:
        address = IPv4Address(ip)
    except ValueError:
        raise InvalidArgument(f"invalid IPv4 address: {ip}") from None
    if address not in subnet or address in (subnet.network_address, subnet.broadcast_address):
        raise InvalidArgument(  # moby's validateEndpointSettings
            f"invalid endpoint settings:\nno configured subnet or ip-range contain the IP address {ip}"
        )
    if address == gateway or address in set(allocated):
        raise Forbidden(f"Address already in use: {ip}")
    return address


def mac_for(address: IPv4Address) -> str:
    """Docker's derived MAC: 02:42 followed by the four address bytes."""
    return "02:42:" + ":".join(f"{b:02x}" for b in address.packed)


def check_mac(mac: str) -> str:
    parts = mac.lower().split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts):
        raise InvalidArgument(f"invalid MAC address: {mac}")
    if int(parts[0], 16) & 1:
        raise InvalidArgument(f"invalid MAC address: {mac} is a multicast address")
    return ":".join(parts)


def parse_link_local(addresses: Iterable[str]) -> list[IPv4Interface]:
    """An endpoint's LinkLocalIPs as the interface addresses libnetwork gives (a /16 each),
    or InvalidArgument in dockerd's words: the whole list for one that does not parse, the
    address for one that is not link-local. IPv6 ones are refused: containers here get no
    IPv6 (dockerd's own start fails on them, its kernel refusing the address)."""
    values = ["" if value is None else str(value) for value in addresses]  # a JSON null is Go's ""
    parsed = []
    for raw in values:
        try:
            parsed.append(ipaddress.ip_address(raw))
        except ValueError:
            raise InvalidArgument(f"Invalid link-local IP address: [{' '.join(values)}]") from None
    for address in parsed:
        if not address.is_link_local:
            raise InvalidArgument(f"invalid link local IP address: {address}")
        if address.version == 6:
            raise InvalidArgument(f"link-local IPv6 address {address}: dockyard gives containers no IPv6")
    return [IPv4Interface(f"{address}/16") for address in parsed]
