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
from dockyard.network.networks import PREDEFINED
from dockyard.network.store import NetworkRecord

LIST_FILTERS = ("dangling", "driver", "id", "label", "name", "scope", "type")


def ipam_pool(config: dict) -> dict:
    """The one IPv4 pool of an IPAM config (what this bridge driver supports), checked as moby
    checks it (ipamconfig), as keyword arguments of NetworkController.create_network: subnet,
    gateway, ip_range, aux_addresses."""
    pools = (config.get("IPAM") or {}).get("Config") or []
    if len(pools) > 1:
        raise InvalidArgument("IPAM.Config: dockyard's bridge driver takes one IPv4 pool per network")
    pool = pools[0] if pools else {}
    for field, flag in (("Gateway", "gateway"), ("IPRange", "ip-range"), ("AuxiliaryAddresses", "aux-address")):
        if pool.get(field) and not pool.get("Subnet"):
            raise InvalidArgument(f"{flag} without subnet: every --{flag} needs a matching --subnet")
    ipamconfig.validate(pools, ipv6=bool(config.get("EnableIPv6")))
    return {
        "subnet": pool.get("Subnet") or None,
        "gateway": pool.get("Gateway") or None,
        "ip_range": pool.get("IPRange") or None,
        "aux_addresses": pool.get("AuxiliaryAddresses") or {},
    }


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
        if config.get("EnableIPv6"):
            raise InvalidArgument("EnableIPv6: dockyard's bridge driver has no IPv6 support")
        rec = self.controller.create_network(
            config["Name"],
            config.get("Driver") or "bridge",
            internal=bool(config.get("Internal")),
            labels=config.get("Labels") or {},
            options=config.get("Options") or {},
            attachable=bool(config.get("Attachable")),
            **ipam_pool(config),
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
