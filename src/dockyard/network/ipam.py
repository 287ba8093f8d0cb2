"""IP address management: pick subnets that clash with nothing, and free addresses in them.

Pure: the caller passes what is taken (host routes, other networks, allocated addresses);
the metadata tables make an allocation durable and unique (UNIQUE(network_id, ip)).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network

from dockyard.errors import AddressesExhausted, Forbidden, InvalidArgument, NotFound, RuntimeFailure

Subnet = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class PoolRequest:
    """One IPAM.Config entry as asked (strings, "" when not given); see ipamconfig for its checks."""

    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    aux_addresses: Mapping[str, str] = field(default_factory=dict)


# Docker's default local pools: 172.17-31.0.0/16, then 192.168.0.0/16 cut into /20s.
DEFAULT_POOLS: tuple[tuple[str, int], ...] = (
    ("172.18.0.0/15", 16),
    ("172.20.0.0/14", 16),
    ("172.24.0.0/13", 16),
    ("192.168.0.0/16", 20),
)


def parse_subnet(raw: str, version: int = 4) -> Subnet:
    """`10.1.0.0/24` -> network (host bits dropped), of IP `version`, with room for a gateway
    and an address to hand out (at least a /30, an IPv6 one a /126)."""
    try:
        subnet = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid CIDR address: {raw}") from None
    if subnet.version != version:
        raise InvalidArgument(f"invalid IPv{version} subnet: {raw}")
    smallest = 30 if version == 4 else 126
    if subnet.prefixlen > smallest:
        raise InvalidArgument(f"subnet {raw} is too small: at least a /{smallest} is needed")
    return subnet


def parse_address(raw: object, version: int) -> Address:
    """An address of IP `version` written as a string, without an IPv6 zone (`%eth0`: an
    address with one compares unequal to the same address without); ValueError otherwise."""
    if not isinstance(raw, str) or "%" in raw:
        raise ValueError(raw)
    address = ipaddress.ip_address(raw)
    if address.version != version:
        raise ValueError(raw)
    return address


def _address(raw: object, subnet: Subnet) -> Address:
    return parse_address(raw, subnet.version)


def never_handed_out(subnet: Subnet) -> set[Address]:
    """The subnet's own address, and on IPv4 its broadcast address: libnetwork reserves these
    in every pool (an IPv6 pool has no broadcast, so its last address is a host's). Pure."""
    return {subnet.network_address, subnet.broadcast_address} if subnet.version == 4 else {subnet.network_address}


def parse_gateway(raw: str | None, subnet: Subnet, ip_range: Subnet | None = None) -> Address:
    """The gateway given, checked to be a host address of the subnet; else the first address
    handed out: the subnet's first host, or the IPRange's first address (libnetwork takes the
    gateway from the range as it would a container's address)."""
    if not raw:
        if ip_range is None:
            return next(subnet.hosts())
        try:
            return next_address(subnet, subnet.network_address, [], ip_range)
        except AddressesExhausted:  # libnetwork's words (an internal error: 500)
            raise RuntimeFailure("failed to allocate gateway (): No available addresses on this pool") from None
    try:
        gateway = _address(raw, subnet)
    except ValueError:
        raise InvalidArgument(f"invalid gateway address {raw}") from None
    if gateway not in subnet or gateway in never_handed_out(subnet):
        raise InvalidArgument(f"no matching subnet for gateway {raw}")
    return gateway


def check_overlap(subnet: Subnet, taken: Iterable[Subnet]) -> None:
    """Raise docker's Forbidden (403) when `subnet` overlaps a network already in use."""
    for other in taken:
        if subnet.version == other.version and subnet.overlaps(other):
            raise Forbidden("Pool overlaps with other one on this address space")


def choose_subnet(taken: Iterable[IPv4Network], pools: Iterable[tuple[str, int]] = DEFAULT_POOLS) -> IPv4Network:
    """The first pool subnet that overlaps nothing taken (routes, docker0, our networks)."""
    taken = [net for net in taken if net.prefixlen > 0]  # a default route clashes with nothing
    for pool, size in pools:
        for candidate in ipaddress.ip_network(pool).subnets(new_prefix=size):
            if not any(candidate.overlaps(net) for net in taken):
                return candidate
    raise no_pool(4)


def no_pool(version: int) -> NotFound:
    """dockerd's 404 when its default pools have no subnet of a family left (or none at all: IPv6)."""
    return NotFound(
        f"could not find an available, non-overlapping IPv{version} address pool among the defaults to assign to the network"
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


def parse_ip_range(raw: str | None, subnet: Subnet) -> Subnet | None:
    """IPAM's IPRange: the part of the subnet that addresses are handed out from."""
    if not raw:
        return None
    try:
        ip_range = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid CIDR address: {raw}") from None
    if ip_range.version != subnet.version or not ip_range.subnet_of(subnet):
        raise InvalidArgument(f"invalid ip-range {raw}: it must be within subnet {subnet}")
    return ip_range


def parse_aux_addresses(raw: dict[str, str] | None, subnet: Subnet) -> dict[str, Address]:
    """IPAM's AuxiliaryAddresses: named addresses of the subnet that are never handed out."""
    parsed = {}
    for name, text in (raw or {}).items():
        try:
            address = _address(text, subnet)
        except ValueError:
            raise InvalidArgument(f"invalid auxiliary address {name}={text}") from None
        if address not in subnet:
            raise InvalidArgument(f"auxiliary address {name}={text} is not within subnet {subnet}")
        parsed[name] = address
    return parsed


def check_aux_addresses(aux: Mapping[str, Address], gateway: Address) -> None:
    """An auxiliary address is allocated after the gateway: naming the gateway is refused in
    libnetwork's words (dockerd answers them with a 500; a 403 here, as any address in use)."""
    for name, address in aux.items():
        if address == gateway:
            raise Forbidden(f"failed to allocate secondary ip address ({name}:{address}): Address already in use")


def next_address(
    subnet: Subnet,
    gateway: Address,
    allocated: Iterable[Address],
    ip_range: Subnet | None = None,
    reserved: Iterable[Address] = (),
) -> Address:
    """The lowest address of the range (the subnet's hosts without one) that is neither the
    gateway, nor reserved (auxiliary), nor allocated."""
    used = set(allocated) | set(reserved) | {gateway} | never_handed_out(subnet)
    for address in ip_range if ip_range is not None else subnet.hosts():
        if address not in used:
            return address
    raise AddressesExhausted(subnet.version, str(ip_range or subnet))


def allocate(
    asked: str | None,
    subnet: Subnet,
    gateway: Address,
    allocated: Iterable[Address],
    ip_range: Subnet | None = None,
    reserved: Iterable[Address] = (),
) -> Address:
    """An endpoint's address: the one `asked` for if it is free (reserved ones count as taken),
    else the lowest free one of the range."""
    if asked:
        return check_requested(asked, subnet, gateway, [*allocated, *reserved])
    return next_address(subnet, gateway, allocated, ip_range, reserved)


def check_requested(ip: str, subnet: Subnet, gateway: Address, allocated: Iterable[Address]) -> Address:
    """Validate a user-requested address (`--ip`): in the subnet (an IPRange only limits the
    addresses handed out, as in libnetwork), not the gateway, free (auxiliary ones count as taken)."""
    try:
        address = _address(ip, subnet)
    except ValueError:
        raise InvalidArgument(f"invalid IPv{subnet.version} address: {ip}") from None
    if address not in subnet or address in never_handed_out(subnet):
        raise InvalidArgument(  # moby's validateEndpointSettings
            f"invalid endpoint settings:\nno configured subnet or ip-range contain the IP address {ip}"
        )
    if address == gateway or address in set(allocated):
        raise Forbidden("Address already in use")  # dockerd's words, for either family
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


def parse_link_local(addresses: Iterable[str]) -> list[IPv4Interface | IPv6Interface]:
    """An endpoint's LinkLocalIPs as the interface addresses libnetwork gives (an IPv4 one a
    /16, an IPv6 one a /64), or InvalidArgument in dockerd's words: the whole list for one
    that does not parse, the address for one that is not link-local."""
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
    return [ipaddress.ip_interface(f"{address}/{16 if address.version == 4 else 64}") for address in parsed]
