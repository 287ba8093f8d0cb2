"""The network service: `docker network ls / inspect / create / rm / prune / connect / disconnect`.

The API's NetworkBackend over the network controller; connect and disconnect go through
`ContainerNetworks` under the container's lock, live when the container runs.
"""

from __future__ import annotations

import time

from dockyard.engine import prune
from dockyard.engine.containers.service import ContainerService
from dockyard.engine.containers.views import parse_time
from dockyard.engine.events import EventBus
from dockyard.engine.networks import filters as network_filters
from dockyard.engine.networks.wiring import ContainerNetworks
from dockyard.errors import InvalidArgument, NoSuchNetwork
from dockyard.network import ipamconfig
from dockyard.network.controller import NetworkController
from dockyard.network.ipam import PoolRequest
from dockyard.network.networks import PREDEFINED
from dockyard.network.store import NetworkRecord

LIST_FILTERS = ("dangling", "driver", "id", "label", "name", "scope", "type")


def ipam_pools(config: dict) -> dict:
    """The IPAM config's pools, checked as moby checks them (ipamconfig), as keyword arguments
    of NetworkController.create_network: the IPv4 pool's subnet, gateway, ip_range and
    aux_addresses, `ipv6`, the IPv6 pool of a network that enables IPv6 (one of each family,
    what this bridge driver takes), and `asked_pools`, the pools as given (for inspect)."""
    pools = (config.get("IPAM") or {}).get("Config") or []
    if not isinstance(pools, list) or not all(isinstance(pool, dict) for pool in pools):
        raise InvalidArgument("IPAM.Config: a list of pools, each an object, is expected")
    for pool in pools:
        for field, flag in (("Gateway", "gateway"), ("IPRange", "ip-range"), ("AuxiliaryAddresses", "aux-address")):
            if pool.get(field) and not pool.get("Subnet"):
                raise InvalidArgument(f"{flag} without subnet: every --{flag} needs a matching --subnet")
    enable_ipv6 = bool(config.get("EnableIPv6"))
    ipamconfig.validate(pools, ipv6=enable_ipv6)
    by_family: dict[int, dict] = {}
    for pool in pools:
        family = 6 if ":" in pool["Subnet"] else 4
        if family in by_family:
            raise InvalidArgument(f"IPAM.Config: dockyard's bridge driver takes one IPv{family} pool per network")
        by_family[family] = pool
    if 6 in by_family and not enable_ipv6:
        raise InvalidArgument(f"IPAM.Config: the IPv6 pool {by_family[6]['Subnet']} needs EnableIPv6 (--ipv6)")
    v4, v6 = by_family.get(4, {}), by_family.get(6)
    asked = [_shown(by_family[family]) for family in (4, 6) if family in by_family]
    return {
        "subnet": v4.get("Subnet") or None,
        "gateway": v4.get("Gateway") or None,
        "ip_range": v4.get("IPRange") or None,
        "aux_addresses": v4.get("AuxiliaryAddresses") or {},
        "ipv6": _pool_request(v6) if v6 is not None else (PoolRequest() if enable_ipv6 else None),
        "asked_pools": asked,
    }


def _shown(pool: dict) -> dict:
    """A pool as inspect shows what was given: its fields in dockerd's order, empty ones left out."""
    fields = ("Subnet", "IPRange", "Gateway", "AuxiliaryAddresses")
    return {field: pool[field] for field in fields if pool.get(field)}


def _pool_request(pool: dict) -> PoolRequest:
    return PoolRequest(
        pool.get("Subnet") or "",
        pool.get("Gateway") or "",
        pool.get("IPRange") or "",
        pool.get("AuxiliaryAddresses") or {},
    )


class NetworkService:
    """Docker's network verbs; every change also publishes a `network` event."""

    def __init__(
        self,
        controller: NetworkController,
        containers: ContainerService,
        networking: ContainerNetworks,
        events: EventBus,
    ) -> None:
        self.controller, self.containers, self.networking, self.events = controller, containers, networking, events

    def list(self, filters: dict[str, list[str]]) -> list[dict]:
        """`docker network ls`, filtered as dockerd (engine/networks/filters.py)."""
        unknown = set(filters) - set(LIST_FILTERS)
        if unknown:
            raise InvalidArgument(f"Invalid filter '{sorted(unknown)[0]}'")
        network_filters.check_filters(filters)
        return [
            self.controller.inspect(net.id)
            for net in self.controller.list()
            if network_filters.matches(net, filters, self._in_use(net))
        ]

    def _in_use(self, net: NetworkRecord) -> bool:
        return self.controller.in_use(net.id)

    def inspect(self, ref: str, verbose: bool = False, scope: str | None = None) -> dict:
        """`verbose` adds services only for swarm networks (moby), so nothing for ours, which are
        all local: a `scope` other than "local" finds none of them (404, as dockerd)."""
        if scope not in (None, "local"):
            raise NoSuchNetwork(ref)
        return self.controller.inspect(ref)

    def create(self, config: dict) -> dict:
        """POST /networks/create. Raises Conflict (name), Forbidden (overlapping pool), InvalidArgument, NotSupported."""
        rec = self.controller.create_network(
            config["Name"],
            config.get("Driver") or "bridge",
            internal=bool(config.get("Internal")),
            labels=config.get("Labels") or {},
            options=config.get("Options") or {},
            attachable=bool(config.get("Attachable")),
            **ipam_pools(config),
        )
        self._publish(rec, "create")
        return {"Id": rec.id, "Warning": ""}

    def remove(self, ref: str) -> None:
        net = self.controller.get(ref)
        self.controller.remove_network(net.id)
        self._publish(net, "destroy")

    def prune(self, filters: dict[str, list[str]]) -> dict:
        """Remove unused networks matching `until`, `label` and `label!` (engine/prune.py)."""
        now = time.time()
        prune.cutoff(filters, now)  # a malformed `until` is a 400 before anything is removed
        removed = []
        for net in self.controller.list():
            if net.name in PREDEFINED or self._in_use(net):
                continue
            if not prune.prune_match(dict(net.labels), parse_time(net.created), filters, now):
                continue
            self.controller.remove_network(net.id)
            self._publish(net, "destroy")
            removed.append(net.name)
        return {"NetworksDeleted": removed}

    def connect(self, ref: str, container: str, endpoint_config: dict | None) -> None:
        """Connect a container, live when it runs. Raises NoSuchNetwork, NoSuchContainer, Conflict, Forbidden."""
        target = self.containers.get(container)
        net = self.controller.get(ref)
        self.containers.reconfigure(target.id, lambda c: self.networking.join(c, net.name, dict(endpoint_config or {})))
        self._publish(net, "connect", container=target.id)

    def disconnect(self, ref: str, container: str, force: bool) -> None:
        target = self.containers.get(container)
        net = self.controller.get(ref)
        self.containers.reconfigure(target.id, lambda c: self.networking.leave(c, net.name))
        self._publish(net, "disconnect", container=target.id)

    def _publish(self, net: NetworkRecord, action: str, **extra: str) -> None:
        self.events.publish("network", action, net.id, {"name": net.name, "type": net.driver, **extra})
