"""The network controller: what the engine calls to give containers networks.

Lifecycle, as the engine drives it:

    start()                            chains, predefined networks (bridge, host, none), DNS
    recover(live)                      after start: drop what belongs to dead containers
    create_network / remove_network    `docker network create / rm` (networks.py)
    connect(net, cid, netns, ...)      a created-but-not-started container gets an endpoint
    publish(cid, specs)                its -p / -P ports, all or none
    disconnect(net, cid)               live, `docker network disconnect`
    release(cid)                       container stopped or removed: everything of it goes
    close()                            daemon exit: sockets closed, kernel state kept

Every change is a row in the network tables first, then kernel state (netlink, one
iptables-restore per table); a failure undoes both, so nothing is left half-configured.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_interface

from dockyard import faults
from dockyard.errors import AddressesExhausted, InvalidArgument
from dockyard.metadata.db import Database
from dockyard.network import bridge, ipam, publish, shapes
from dockyard.network.config import NetworkConfig
from dockyard.network.dns import Resolver
from dockyard.network.firewall import Firewall
from dockyard.network.names import NameTable, dns_names
from dockyard.network.networks import Networks
from dockyard.network.portspec import PortBinding, PortSpec
from dockyard.network.rules import BridgeRules, Chains, Forward
from dockyard.network.store import Allocation, EndpointRecord, NetworkRecord, NetworkStore, Taken

USER_IP_ON_PREDEFINED = "user specified IP address is supported on user defined networks only"
USER_IP_NEEDS_SUBNET = (
    "user specified IP address is supported only when connecting to networks with user configured subnets"
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What a container got on one network."""

    network_id: str
    network: str
    container_id: str
    endpoint_id: str
    ifname: str
    ip: str | None
    prefix: int
    gateway: str | None
    mac: str
    ip6: str | None = None


class NetworkController:
    """Owns bridges, veths, IPAM, iptables chains and the embedded DNS of one daemon."""

    def __init__(self, db: Database, config: NetworkConfig = NetworkConfig()) -> None:
        self.config = config
        self.store = NetworkStore(db)
        self.firewall = Firewall(Chains(config.chain_prefix), config.iptables)
        self.names = NameTable(self.store, config)
        self.resolver = Resolver(self.names.lookup, self.names.reverse, self.names.upstreams, config.iptables)
        self.ports = publish.Publisher(self.store)
        self._lock = threading.RLock()
        self.networks = Networks(self.store, config, self._lock, self._apply_rules)
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Install chains, create the predefined networks and their bridges, start DNS."""
        with self._lock:
            self.networks.ensure_predefined()
            self._apply_rules()
            self.resolver.start()
            self._started = True

    def recover(self, live: Mapping[str, str]) -> list[str]:
        """Keep the containers in `live` (id -> netns path), release every other; returns the released."""
        with self._lock:
            dead = sorted({ep.container_id for ep in self.store.endpoints()} - set(live))
            for cid in dead:
                self._release(cid)
            plugged = set(bridge.strays((self.config.veth_prefix,)))
            for ep in self.store.endpoints():
                if ep.veth and ep.veth not in plugged:  # a connect a crash cut short: no client was told
                    self.store.remove_endpoint(ep.network_id, ep.container_id)
            self._remove_strays()
            for cid, path in live.items():
                self.ports.rehold(cid)
                if any(self.names.served(ep) for ep in self.store.endpoints(container_id=cid)):
                    self.resolver.attach(cid, path)
            self._apply_rules()
            return dead

    def close(self) -> None:
        """Daemon shutdown: stop DNS, close held ports; bridges and rules stay for live containers."""
        with self._lock:
            if self._started:
                self.resolver.stop()
                self._started = False
            self.ports.close_all()

    def uninstall(self) -> None:
        """Remove every endpoint, bridge and chain this controller made (tests, reset)."""
        with self._lock:
            for cid in {ep.container_id for ep in self.store.endpoints()}:
                self._release(cid)
            self.close()
            for net in self.networks.bridges():
                bridge.remove_bridge(net.bridge)
            self.firewall.uninstall()

    # -- networks (see networks.py) ----------------------------------------------------------

    def create_network(
        self,
        name: str,
        driver: str = "bridge",
        subnet: str | None = None,
        gateway: str | None = None,
        internal: bool = False,
        labels: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
        attachable: bool = False,
        ip_range: str | None = None,
        aux_addresses: Mapping[str, str] | None = None,
        ipv6: ipam.PoolRequest | None = None,
        asked_pools: Sequence[Mapping[str, object]] = (),
    ) -> NetworkRecord:
        """`docker network create`, with IPv6 when `ipv6` gives its pool (see Networks.create).
        Raises Conflict (name taken), Forbidden (overlapping subnet), InvalidArgument, NotFound."""
        return self.networks.create(
            name,
            driver,
            subnet,
            gateway,
            internal,
            labels,
            options,
            attachable,
            ip_range,
            aux_addresses,
            ipv6,
            asked_pools,
        )

    def remove_network(self, ref: str) -> None:
        """`docker network rm`. Raises NoSuchNetwork, Forbidden (predefined, in use)."""
        self.networks.remove(ref)

    def get(self, ref: str) -> NetworkRecord:
        """By full ID, name, or unique ID prefix, in that order, like docker. Raises NoSuchNetwork."""
        return self.networks.get(ref)

    def list(self) -> list[NetworkRecord]:
        return self.networks.list()

    def inspect(self, ref: str) -> dict:
        """`GET /networks/{id}`: Docker's shape with the attached containers."""
        return self.networks.inspect(ref)

    def in_use(self, network_id: str) -> bool:
        """Whether any container has an endpoint on the network."""
        return self.networks.in_use(network_id)

    # -- containers ------------------------------------------------------------------------

    def connect(
        self,
        ref: str,
        container_id: str,
        netns_path: str,
        name: str,
        aliases: tuple[str, ...] = (),
        mac: str | None = None,
        ip: str | None = None,
        link_local: tuple[str, ...] = (),
        ip6: str | None = None,
        links: tuple[tuple[str, str], ...] = (),
    ) -> Endpoint:
        """Give the container (its netns at `netns_path`) an endpoint on the network: the
        addresses `ip` and `ip6` asked for or free ones (IPv6 on a network with IPv6), the
        `link_local` ones (the endpoint's LinkLocalIPs) besides, and `links` ((alias,
        container name) pairs) as names only this endpoint resolves.

        Raises NoSuchNetwork, Forbidden (already connected, address in use), InvalidArgument (host network).
        """
        with self._lock:
            net = self.get(ref)
            mine = self.store.endpoints(container_id=container_id)
            if net.driver != "bridge":
                return self._record_only(net, container_id, name, aliases, mine)
            if any(self.get(ep.network_id).driver != "bridge" for ep in mine):
                raise InvalidArgument("container cannot be disconnected from host network or connected to host network")
            subnet, gateway = IPv4Network(net.subnet), IPv4Address(net.gateway)
            if aliases and net.name == "bridge":
                raise InvalidArgument("network-scoped alias is supported only for containers in user defined networks")
            if (ip or ip6) and net.name == "bridge":
                raise InvalidArgument(USER_IP_ON_PREDEFINED)
            if ip6 and not net.ipv6:
                raise InvalidArgument(USER_IP_NEEDS_SUBNET)

            mac_addr = ipam.check_mac(mac) if mac else None
            extra = tuple(ipam.parse_link_local(link_local))

            ip_range = IPv4Network(net.ip_range) if net.ip_range else None
            reserved = [IPv4Address(a) for a in net.aux_addresses.values()]

            def allocate(taken: Taken) -> Allocation:
                used = [IPv4Address(t) for t in taken.ips]
                try:
                    got = ipam.allocate(ip, subnet, gateway, used, ip_range, reserved)
                    return Allocation(str(got), mac_addr or ipam.mac_for(got), _allocate6(net, ip6, taken.ip6s))
                except AddressesExhausted as exc:  # named by its network, in libnetwork's words
                    raise AddressesExhausted(exc.version, f"{net.name} ({net.id})") from None

            used_if = {ep.ifname for ep in mine}
            ifname = next(f"eth{n}" for n in range(len(used_if) + 1) if f"eth{n}" not in used_if)
            veth = bridge.veth_name(self.config.veth_prefix, container_id, net.id)
            rec = EndpointRecord(
                net.id,
                container_id,
                secrets.token_hex(32),
                name,
                tuple(aliases),
                ifname=ifname,
                veth=veth,
                netns=netns_path,
                links=tuple(links),
            )
            ep = self.store.add_endpoint(rec, allocate)
            try:
                faults.point("network.connect.after-record")
                self._plug(net, ep, not net.internal, extra)
                if self.names.served(ep):
                    self.resolver.attach(container_id, netns_path)
            except BaseException:
                bridge.unplug(veth)
                self.store.remove_endpoint(net.id, container_id)
                raise
            return self._endpoint(net, ep)

    def _record_only(
        self, net: NetworkRecord, cid: str, name: str, aliases: tuple[str, ...], mine: list[EndpointRecord]
    ) -> Endpoint:
        if mine:
            raise InvalidArgument("container cannot be disconnected from host network or connected to host network")
        ep = self.store.add_endpoint(
            EndpointRecord(net.id, cid, secrets.token_hex(32), name, tuple(aliases)), lambda _: Allocation(None, "")
        )
        return self._endpoint(net, ep)

    def _plug(self, net: NetworkRecord, ep: EndpointRecord, default_route: bool, link_local: tuple) -> None:
        own = [ip_interface(f"{ep.ip}/{IPv4Network(net.subnet).prefixlen}")]
        if ep.ip6:
            own.append(ip_interface(f"{ep.ip6}/{IPv6Network(net.subnet6).prefixlen}"))
        gateways = _gateways(net) if default_route else []
        bridge.plug(
            net.bridge, ep.veth, ep.netns, ep.ifname, ep.mac, self.networks.mtu(net), own + [*link_local], gateways
        )

    def disconnect(self, ref: str, container_id: str) -> None:
        """Remove the container's endpoint on the network (live); its ports there go too."""
        with self._lock:
            net = self.get(ref)
            ep = next((e for e in self.store.endpoints(network_id=net.id, container_id=container_id)), None)
            if ep is None:
                raise InvalidArgument(f"container {container_id} is not connected to network {net.name}")
            self.ports.close(container_id, net.id)
            if ep.veth:
                bridge.unplug(ep.veth)
            self.store.remove_endpoint(net.id, container_id)
            rest = self.store.endpoints(container_id=container_id)
            if not any(self.names.served(e) for e in rest):
                self.resolver.detach(container_id)
            self._apply_rules()
            self._reroute(ep, net, rest)

    def _reroute(self, gone: EndpointRecord, net: NetworkRecord, rest: list[EndpointRecord]) -> None:
        """After a disconnect, route through another network if the default route went away."""
        outward = [n for n in (self.get(ep.network_id) for ep in rest) if n.driver == "bridge" and not n.internal]
        v4 = next((n.gateway for n in outward), None)
        v6 = next((n.gateway6 for n in outward if n.ipv6), None)
        if (v4 or v6) and os.path.exists(gone.netns):  # per family: the first network that has one
            bridge.set_default_routes(gone.netns, [g for g in (v4, v6) if g], drop_via=_gateways(net))

    def publish(self, container_id: str, specs: list[PortSpec]) -> list[PortBinding]:
        """Publish ports on the container's first outward network: all of them, or none.

        Raises Conflict ("Bind for 0.0.0.0:80 failed: port is already allocated"), InvalidArgument.
        """
        if not specs:
            return []
        with self._lock:
            target = next(
                (
                    ep
                    for ep in self.store.endpoints(container_id=container_id)
                    if ep.ip and not self.get(ep.network_id).internal
                ),
                None,
            )
            if target is None:
                return []  # docker ignores -p on none, host and internal-only containers
            return self.ports.publish(target, specs, self._apply_rules)

    def bindings(self, container_id: str) -> list[PortBinding]:
        """The container's published ports (`docker port`)."""
        return self.ports.bindings(container_id)

    def endpoints(self, container_id: str) -> list[Endpoint]:
        return [self._endpoint(self.get(ep.network_id), ep) for ep in self.store.endpoints(container_id=container_id)]

    def release(self, container_id: str) -> None:
        """The container stopped or was removed: its veths, addresses, ports and rules go."""
        with self._lock:
            had_ports = any(p.container_id == container_id for p in self.store.ports())
            self._release(container_id)
            if had_ports:  # rules depend only on networks and published ports
                self._apply_rules()

    def network_settings(self, container_id: str, exposed: tuple[str, ...] = (), sandbox_key: str = "") -> dict:
        """NetworkSettings for `docker inspect` of this container."""
        eps = self.store.endpoints(container_id=container_id)
        pairs = [(self.get(ep.network_id), ep) for ep in eps]
        names = {net.id: dns_names(net, ep) for net, ep in pairs}
        return shapes.network_settings(pairs, self.bindings(container_id), exposed, sandbox_key, names)

    def host_gateway_ip(self) -> str:
        """What `--add-host x:host-gateway` means: the default bridge's address."""
        return self.get("bridge").gateway

    # -- internals -------------------------------------------------------------------------

    def _apply_rules(self) -> None:
        nets = {n.id: n for n in self.networks.bridges()}
        rules = [BridgeRules(n.bridge, n.subnet, n.internal) for n in nets.values()]
        forwards = [
            Forward(p.proto, p.host_ip, p.host_port, p.container_ip, p.container_port)
            for p in self.store.ports()
            if p.network_id in nets
        ]
        self.firewall.apply(rules, forwards)

    def _release(self, container_id: str) -> None:
        self.ports.close(container_id)
        self.resolver.detach(container_id)
        for ep in self.store.endpoints(container_id=container_id):
            if ep.veth:
                bridge.unplug(ep.veth)
        self.store.forget_container(container_id)

    def _remove_strays(self) -> None:
        """Veths and bridges with our names that no record explains (a crash mid-connect)."""
        known = {ep.veth for ep in self.store.endpoints()} | {n.bridge for n in self.networks.bridges()}
        for name in bridge.strays((self.config.veth_prefix, "dyp", self.config.bridge_prefix)):
            if name not in known:
                bridge.remove_bridge(name)

    def _endpoint(self, net: NetworkRecord, ep: EndpointRecord) -> Endpoint:
        prefix = IPv4Network(net.subnet).prefixlen if net.subnet and ep.ip else 0
        gateway = net.gateway if ep.ip and not net.internal else None
        return Endpoint(
            net.id, net.name, ep.container_id, ep.endpoint_id, ep.ifname, ep.ip, prefix, gateway, ep.mac, ep.ip6
        )


def _gateways(net: NetworkRecord) -> list[str]:
    """Where a container on `net` routes by default: its IPv4 gateway, and IPv6 one if it has IPv6."""
    return [net.gateway, net.gateway6] if net.ipv6 else [net.gateway]


def _allocate6(net: NetworkRecord, asked: str | None, taken: list[str]) -> str | None:
    """The endpoint's IPv6 address on a network with IPv6: `asked` if free, else the lowest free one."""
    if not net.ipv6:
        return None
    ip_range = IPv6Network(net.ip_range6) if net.ip_range6 else None
    reserved = [IPv6Address(a) for a in net.aux_addresses6.values()]
    used = [IPv6Address(t) for t in taken]
    return str(ipam.allocate(asked, IPv6Network(net.subnet6), IPv6Address(net.gateway6), used, ip_range, reserved))
