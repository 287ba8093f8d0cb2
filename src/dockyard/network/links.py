"""Netlink steps for the bridge driver: bridges, veth pairs and the container's side.

Every function takes an open pyroute2 `IPRoute` bound to the namespace it acts in, so the
same code configures the host side and (through `netns.run_in`) the container side.
Names are the caller's: bridges `dockyard0`/`dy-<id12>`, veths `dyv<hex11>`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from ipaddress import IPv4Interface, IPv6Interface, ip_address, ip_interface
from pathlib import Path
from socket import AF_INET, AF_INET6

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from dockyard.errors import Conflict, RuntimeFailure

IFNAMSIZ = 15
IFA_F_NODAD = 0x02

Interface = IPv4Interface | IPv6Interface


def link_index(ipr: IPRoute, name: str) -> int | None:
    """The index of the interface called `name`, or None."""
    found = ipr.link_lookup(ifname=name)
    return found[0] if found else None


def ensure_bridge(ipr: IPRoute, name: str, gateways: Sequence[Interface], mtu: int = 1500) -> int:
    """Create bridge `name` with exactly the addresses `gateways` (an IPv4 one, and an IPv6 one
    on a network with IPv6; the kernel's own link-local address stays) and bring it up (idempotent)."""
    index = link_index(ipr, name)
    if index is None:
        try:
            ipr.link("add", ifname=name, kind="bridge", mtu=mtu)
        except NetlinkError as exc:
            raise RuntimeFailure(f"failed to create bridge {name}: {os.strerror(exc.code)}") from None
        index = link_index(ipr, name)
    with_ipv6 = any(gateway.version == 6 for gateway in gateways)
    if with_ipv6:
        set_sysctl(f"net/ipv6/conf/{name}/disable_ipv6", "0")
    have = {  # the IPv4 ones, and the global IPv6 ones of a network with IPv6 (others are not ours)
        ip_interface(f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}")
        for a in ipr.get_addr(index=index)
        if a["family"] == AF_INET or (with_ipv6 and not ip_address(a.get_attr("IFA_ADDRESS")).is_link_local)
    }
    for address in have - set(gateways):  # an earlier daemon's: replaced, never added to
        ipr.addr("del", index=index, address=str(address.ip), prefixlen=address.network.prefixlen)
    for gateway in gateways:
        if gateway in have:
            continue
        try:
            _add_address(ipr, index, gateway)
        except NetlinkError as exc:
            raise Conflict(f"cannot assign {gateway} to {name}: {os.strerror(exc.code)}") from None
    ipr.link("set", index=index, state="up")
    return index


def _add_address(ipr: IPRoute, index: int, address: Interface) -> None:
    """An IPv6 one without duplicate address detection: IPAM made it unique, and a tentative
    address could not be bound for the second DAD takes."""
    flags = IFA_F_NODAD if address.version == 6 else 0
    ipr.addr("add", index=index, address=str(address.ip), prefixlen=address.network.prefixlen, flags=flags)


def addresses(ipr: IPRoute, name: str) -> list[str]:
    """The IPv4 addresses of interface `name` as `a.b.c.d/len` ([] when it does not exist)."""
    index = link_index(ipr, name)
    if index is None:
        return []
    return [f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}" for a in ipr.get_addr(index=index, family=2)]


def delete_link(ipr: IPRoute, name: str) -> bool:
    """Remove interface `name` if it exists; say whether it did."""
    index = link_index(ipr, name)
    if index is None:
        return False
    try:
        ipr.link("del", index=index)
    except NetlinkError as exc:
        if exc.code != 19:  # ENODEV: gone meanwhile (its peer's namespace died)
            raise
    return True


def list_links(ipr: IPRoute, prefix: str) -> list[str]:
    """Names of the interfaces in this namespace that start with `prefix`."""
    names = (link.get_attr("IFLA_IFNAME") for link in ipr.get_links())
    return sorted(name for name in names if name and name.startswith(prefix))


def create_veth(ipr: IPRoute, host_name: str, peer_name: str, bridge: int, netns_fd: int, mtu: int = 1500) -> None:
    """Make a veth pair: `host_name` enslaved to `bridge` and up, `peer_name` made in the netns.

    The peer is born in the container's namespace: moving it there afterwards costs the
    kernel an RCU grace period (synchronize_net), 18-20 ms per container on this host."""
    delete_link(ipr, host_name)  # a leftover of a crash would make the add fail
    peer = {"ifname": peer_name, "mtu": mtu, "net_ns_fd": netns_fd}
    ipr.link("add", ifname=host_name, kind="veth", peer=peer, mtu=mtu)
    host = link_index(ipr, host_name)
    try:
        ipr.link("set", index=host, master=bridge)
        ipr.brport("set", index=host, mode=1)  # IFLA_BRPORT_MODE: hairpin
        ipr.link("set", index=host, state="up")
    except NetlinkError as exc:
        delete_link(ipr, host_name)
        raise RuntimeFailure(f"failed to set up veth {host_name}: {os.strerror(exc.code)}") from None


def configure_inside(
    ipr: IPRoute, peer_name: str, ifname: str, mac: str, addresses: Sequence[Interface], gateways: Sequence[str]
) -> None:
    """In the container's namespace: rename, set MAC and `addresses` (the endpoint's own, then
    its link-local ones), bring up, route each family without a default route through its
    gateway in `gateways`. An interface given no IPv6 address has IPv6 turned off."""
    index = link_index(ipr, peer_name)
    if index is None:
        raise RuntimeFailure(f"interface {peer_name} did not arrive in the container namespace")
    if link_index(ipr, ifname) is not None:
        raise Conflict(f"interface {ifname} already exists in the container namespace")
    if not any(address.version == 6 for address in addresses) and host_has_ipv6():  # as libnetwork
        set_sysctl(f"net/ipv6/conf/{peer_name}/disable_ipv6", "1")  # no IPv6, not even link-local
    ipr.link("set", index=index, ifname=ifname, address=mac, state="up")  # the kernel renames before it ups
    for address in addresses:
        _add_address(ipr, index, address)
    lo = link_index(ipr, "lo")
    if lo is not None:
        ipr.link("set", index=lo, state="up")
    ensure_default_routes(ipr, gateways, index)


def ensure_default_routes(ipr: IPRoute, gateways: Sequence[str], oif: int | None = None) -> None:
    """A default route through each gateway whose family has none yet."""
    for gateway in gateways:
        family, dst = _default_route(gateway)
        if not [r for r in ipr.get_routes(family=family) if r["dst_len"] == 0]:
            ipr.route("add", dst=dst, gateway=gateway, family=family, **({"oif": oif} if oif else {}))


def remove_default_route_via(ipr: IPRoute, gateway: str) -> None:
    """Drop the default route through `gateway` (when that network is disconnected)."""
    family, dst = _default_route(gateway)
    for route in ipr.get_routes(family=family):
        if route["dst_len"] == 0 and route.get_attr("RTA_GATEWAY") == gateway:
            ipr.route("del", dst=dst, gateway=gateway, family=family)


def _default_route(gateway: str) -> tuple[int, str]:
    """The address family of a gateway and the destination of a default route through it."""
    return (AF_INET6, "::/0") if ip_address(gateway).version == 6 else (AF_INET, "0.0.0.0/0")


def host_has_ipv6() -> bool:
    """Whether the kernel has IPv6 at all (not booted with ipv6.disable=1)."""
    return Path("/proc/sys/net/ipv6").is_dir()


def set_sysctl(path: str, value: str) -> None:
    """Write one /proc/sys value in the calling thread's network namespace."""
    Path("/proc/sys", path).write_text(value)


def get_sysctl(path: str) -> str:
    return Path("/proc/sys", path).read_text().strip()
