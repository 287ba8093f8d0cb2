"""The networks of one daemon: their records and bridges (`docker network create / rm / ls`).

    ensure_predefined()   at start: bridge (the default bridge), host and none, and every
                          bridge network's Linux bridge, as recorded
    create(name, ...)     a user bridge network: a free subnet, a bridge, its rules
    remove(ref)           only when no container has an endpoint on it

A network is a row in the network tables first, then a Linux bridge; a failure undoes
both. The controller owns the lock both share and the firewall rules (`apply_rules`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from ipaddress import IPv4Interface, IPv4Network, IPv6Interface, IPv6Network, ip_interface

from dockyard import faults
from dockyard.errors import Conflict, Forbidden, InvalidArgument, NoSuchNetwork, NotSupported
from dockyard.network import bridge, ipam, links, shapes
from dockyard.network.config import NetworkConfig
from dockyard.network.store import NetworkRecord, NetworkStore
from dockyard.timestamps import now_rfc3339

PREDEFINED = ("bridge", "host", "none")
DRIVERS = ("bridge", "host", "null")


class Networks:
    def __init__(
        self, store: NetworkStore, config: NetworkConfig, lock: threading.RLock, apply_rules: Callable[[], None]
    ) -> None:
        self.store, self.config, self._lock, self._apply_rules = store, config, lock, apply_rules

    def ensure_predefined(self) -> None:
        """Record bridge, host and none if missing; set up every bridge network's bridge."""
        with self._lock:
            names = {n.name for n in self.store.networks()}
            if "bridge" not in names:
                self._create_default_bridge()
            for name, driver in (("host", "host"), ("none", "null")):
                if name not in names:
                    self.store.add_network(NetworkRecord(secrets.token_hex(32), name, driver, now_rfc3339()))
            for net in self.bridges():
                self.ensure_bridge(net)

    def create(
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
        """`docker network create`, with IPv6 when an `ipv6` pool is given; `asked_pools` are the
        IPAM.Config pools as given, for inspect. Raises Conflict (name taken), Forbidden
        (overlapping subnet), InvalidArgument, NotFound (no pool left)."""
        if not name or "/" in name:
            raise InvalidArgument(f"invalid network name: {name!r}")
        if driver != "bridge":
            raise (Forbidden if driver in DRIVERS else NotSupported)(
                f'only one instance of "{driver}" network is allowed'
                if driver in DRIVERS
                else f'plugin "{driver}" not found'
            )
        with self._lock:
            if any(n.name == name for n in self.store.networks()):
                raise Conflict(f"network with name {name} already exists")
            net_subnet = self._pick_subnet(subnet)
            net_range = ipam.parse_ip_range(ip_range, net_subnet)
            net_gateway = ipam.parse_gateway(gateway, net_subnet, net_range)
            parsed_aux = ipam.parse_aux_addresses(dict(aux_addresses or {}), net_subnet)
            ipam.check_aux_addresses(parsed_aux, net_gateway)
            aux = {name: str(address) for name, address in parsed_aux.items()}
            v6 = self._ipv6_pool(ipv6) if ipv6 is not None else {}
            net_id = secrets.token_hex(32)
            opts = dict(options or {})
            bridge = opts.get("com.docker.network.bridge.name") or f"{self.config.bridge_prefix}{net_id[:12]}"
            rec = NetworkRecord(
                net_id,
                name,
                "bridge",
                now_rfc3339(),
                bridge,
                str(net_subnet),
                str(net_gateway),
                internal,
                attachable,
                dict(labels or {}),
                opts,
                str(net_range) if net_range else "",
                aux,
                **v6,
                asked_pools=tuple(asked_pools),
            )
            self.store.add_network(rec)
            try:
                faults.point("network.create.after-record")
                self.ensure_bridge(rec)
                self._apply_rules()
            except BaseException:
                self._delete_bridge(rec)
                self.store.remove_network(rec.id)
                raise
            return rec

    def remove(self, ref: str) -> None:
        """`docker network rm`. Raises NoSuchNetwork, Forbidden (predefined, in use)."""
        with self._lock:
            net = self.get(ref)
            if net.name in PREDEFINED:
                raise Forbidden(f"{net.name} is a pre-defined network and cannot be removed")
            if self.store.endpoints(network_id=net.id):
                raise Forbidden(f"error while removing network: network {net.name} id {net.id} has active endpoints")
            self.store.remove_network(net.id)
            self._apply_rules()
            self._delete_bridge(net)

    def get(self, ref: str) -> NetworkRecord:
        """By full ID, name, or unique ID prefix, in that order, like docker."""
        nets = self.store.networks()
        for match in (lambda n: n.id == ref, lambda n: n.name == ref):
            found = [n for n in nets if match(n)]
            if found:
                return found[0]
        found = [n for n in nets if ref and n.id.startswith(ref)]
        if len(found) > 1:
            raise InvalidArgument(f"network {ref} is ambiguous ({len(found)} matches found based on ID prefix)")
        if not found:
            raise NoSuchNetwork(ref)
        return found[0]

    def list(self) -> list[NetworkRecord]:
        return self.store.networks()

    def inspect(self, ref: str) -> dict:
        """`GET /networks/{id}`: Docker's shape with the attached containers."""
        net = self.get(ref)
        default_bridge = net.name == "bridge" and net.driver == "bridge"
        gateway_shown = not default_bridge or self.config.default_subnet is not None  # bip names it
        return shapes.network_json(net, self.store.endpoints(network_id=net.id), gateway_shown)

    def in_use(self, network_id: str) -> bool:
        """Whether any container has an endpoint on the network."""
        return bool(self.store.endpoints(network_id=network_id))

    def bridges(self) -> list[NetworkRecord]:
        return [n for n in self.store.networks() if n.driver == "bridge"]

    def _create_default_bridge(self) -> None:
        """Record the default network: on the address its bridge already has when an earlier
        daemon (another data root) left one that may be kept, else on a fresh subnet."""
        wanted = ipam.parse_subnet(self.config.default_subnet) if self.config.default_subnet else None
        existing = [IPv4Interface(a) for a in bridge.bridge_addresses(self.config.bridge_name)]
        kept = ipam.adoptable(existing, wanted, [IPv4Network(n.subnet) for n in self.bridges()])
        if kept is not None:
            subnet, gateway = kept.network, kept.ip
        else:
            subnet = self._pick_subnet(self.config.default_subnet, leaving=existing)
            gateway = ipam.parse_gateway(None, subnet)
        self.store.add_network(
            NetworkRecord(
                secrets.token_hex(32),
                "bridge",
                "bridge",
                now_rfc3339(),
                self.config.bridge_name,
                str(subnet),
                str(gateway),
                options={
                    "com.docker.network.bridge.default_bridge": "true",
                    "com.docker.network.bridge.name": self.config.bridge_name,
                    "com.docker.network.bridge.enable_ip_masquerade": "true",
                    "com.docker.network.driver.mtu": str(self.config.mtu),
                },
            )
        )

    def _pick_subnet(self, subnet: str | None, leaving: list[IPv4Interface] = ()) -> IPv4Network:
        """A subnet clashing with no network of ours and no host route (but those of `leaving`,
        addresses about to be replaced). Raises Forbidden, InvalidArgument, NotFound (no pool left)."""
        ours = [IPv4Network(n.subnet) for n in self.bridges()]
        going = {address.network for address in leaving}
        routes = [IPv4Network(r, strict=False) for r in bridge.host_routes()]
        routes = [r for r in routes if r not in going]
        if subnet:
            chosen = ipam.parse_subnet(subnet)
            ipam.check_overlap(chosen, ours)
            ipam.check_overlap(chosen, [r for r in routes if r not in ours])
        else:
            taken = ours + routes
            chosen = ipam.choose_subnet(taken, self.config.address_pools)
        return chosen

    def _ipv6_pool(self, pool: ipam.PoolRequest) -> dict:
        """The IPv6 fields of a new network's record. Raises Forbidden (overlap, an auxiliary
        address on the gateway), InvalidArgument, NotFound (no pool given: dockerd's 404)."""
        if not pool.subnet:  # moby's default pools have no IPv6 ones before 27.0 (API 1.46)
            raise ipam.no_pool(6)
        if not links.host_has_ipv6():
            raise InvalidArgument("EnableIPv6: this host's kernel has IPv6 turned off (ipv6.disable=1)")
        subnet = ipam.parse_subnet(pool.subnet, 6)
        ipam.check_overlap(subnet, [IPv6Network(n.subnet6) for n in self.bridges() if n.ipv6])
        ip_range = ipam.parse_ip_range(pool.ip_range or None, subnet)
        gateway = ipam.parse_gateway(pool.gateway or None, subnet, ip_range)
        aux = ipam.parse_aux_addresses(dict(pool.aux_addresses), subnet)
        ipam.check_aux_addresses(aux, gateway)
        return {
            "subnet6": str(subnet),
            "gateway6": str(gateway),
            "ip_range6": str(ip_range) if ip_range else "",
            "aux_addresses6": {name: str(address) for name, address in aux.items()},
        }

    def ensure_bridge(self, net: NetworkRecord) -> None:
        bridge.setup_bridge(net.bridge, gateway_interfaces(net), self.mtu(net), net.internal)

    def mtu(self, net: NetworkRecord) -> int:
        raw = net.options.get("com.docker.network.driver.mtu", "")
        return int(raw) if raw.isdigit() else self.config.mtu

    def _delete_bridge(self, net: NetworkRecord) -> None:
        if net.bridge:
            bridge.remove_bridge(net.bridge)


def gateway_interfaces(net: NetworkRecord) -> list[IPv4Interface | IPv6Interface]:
    """The addresses a bridge network's bridge carries: its gateways, with their prefixes."""
    gateways = [ip_interface(f"{net.gateway}/{IPv4Network(net.subnet).prefixlen}")]
    if net.ipv6:
        gateways.append(ip_interface(f"{net.gateway6}/{IPv6Network(net.subnet6).prefixlen}"))
    return gateways
