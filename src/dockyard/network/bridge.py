"""The bridge driver's steps, each a short function over netlink (see `links`).

Host side and container side of an endpoint, and the bridge of a network, named as:

    bridge   dockyard0 (default network) or dy-<network id 12>
    veth     dyv<11 hex of sha256(container id, network id)> on the host, eth<N> inside
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from pyroute2 import IPRoute

from dockyard.errors import RuntimeFailure
from dockyard.network import links, netns


def veth_name(prefix: str, container_id: str, network_id: str) -> str:
    """A stable host-side name, so recovery can find a crashed container's veth."""
    digest = hashlib.sha256(f"{container_id}/{network_id}".encode()).hexdigest()
    return (prefix + digest)[: links.IFNAMSIZ]


def setup_bridge(name: str, gateways: Sequence[links.Interface], mtu: int, internal: bool) -> None:
    """Create the bridge with its gateway addresses (and no other); route_localnet lets
    127.0.0.1 reach it; a network that is not internal gets forwarding, of IPv6 too when it
    has an IPv6 gateway (as dockerd turns it on)."""
    with IPRoute() as ipr:
        links.ensure_bridge(ipr, name, gateways, mtu)
    links.set_sysctl(f"net/ipv4/conf/{name}/route_localnet", "1")
    if internal:
        return
    wanted = ["net/ipv4/ip_forward"]
    if any(gateway.version == 6 for gateway in gateways):
        wanted += ["net/ipv6/conf/all/forwarding", "net/ipv6/conf/default/forwarding"]
    for path in wanted:
        if links.get_sysctl(path) != "1":
            links.set_sysctl(path, "1")


def bridge_addresses(name: str) -> list[str]:
    """The IPv4 addresses bridge `name` has now (`a.b.c.d/len`), [] if there is no such bridge."""
    with IPRoute() as ipr:
        return links.addresses(ipr, name)


def remove_bridge(name: str) -> None:
    with IPRoute() as ipr:
        links.delete_link(ipr, name)


def plug(
    bridge: str,
    veth: str,
    netns_path: str,
    ifname: str,
    mac: str,
    mtu: int,
    addresses: Sequence[links.Interface],
    gateways: Sequence[str],
) -> None:
    """Veth pair from the bridge into the namespace, configured there with `addresses` and
    default routes through `gateways` (see links.configure_inside); undone on failure."""
    peer = "dyp" + veth[3:]
    try:
        fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise RuntimeFailure(f"cannot open network namespace {netns_path}: {exc.strerror}") from None
    try:
        with IPRoute() as ipr:
            index = links.link_index(ipr, bridge)
            if index is None:
                raise RuntimeFailure(f"bridge {bridge} does not exist")
            links.create_veth(ipr, veth, peer, index, fd, mtu)
    finally:
        os.close(fd)

    def inside() -> None:
        with IPRoute() as ipr:
            links.configure_inside(ipr, peer, ifname, mac, addresses, gateways)

    try:
        netns.run_in(netns_path, inside)
    except BaseException:
        unplug(veth)
        raise


def unplug(veth: str) -> None:
    """Delete the host side; the kernel removes the peer inside the container with it."""
    with IPRoute() as ipr:
        links.delete_link(ipr, veth)


def set_default_routes(netns_path: str, gateways: Sequence[str], drop_via: Sequence[str] = ()) -> None:
    """Inside the namespace: drop the routes through `drop_via`, ensure one per family through `gateways`."""

    def inside() -> None:
        with IPRoute() as ipr:
            for gone in drop_via:
                links.remove_default_route_via(ipr, gone)
            links.ensure_default_routes(ipr, gateways)

    netns.run_in(netns_path, inside)


def host_routes() -> list[str]:
    """Every IPv4 destination routed in this namespace, to keep new subnets clear of them."""
    with IPRoute() as ipr:
        return [
            f"{r.get_attr('RTA_DST')}/{r['dst_len']}"
            for r in ipr.get_routes(family=2)
            if r.get_attr("RTA_DST") and r["dst_len"] > 0 and r.get_attr("RTA_TABLE") == 254
        ]


def strays(prefixes: tuple[str, ...]) -> list[str]:
    with IPRoute() as ipr:
        return [name for prefix in prefixes for name in links.list_links(ipr, prefix)]
