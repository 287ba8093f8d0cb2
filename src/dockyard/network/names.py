"""Who is called what on a network: the data behind the embedded DNS.

On user-defined bridge networks a container answers to its name, its network aliases and
its short ID (also `<name>.<network>`); the default `bridge` network has no names, as in docker.
A legacy link there (`--link db:alias`) is a name only the linking container resolves: the
alias stands for the linked container's name on that network.
"""

from __future__ import annotations

from dockyard.network.config import NetworkConfig
from dockyard.network.resolvconf import parse_resolv_conf, upstream_servers
from dockyard.network.store import EndpointRecord, NetworkRecord, NetworkStore


def dns_names(net: NetworkRecord, ep: EndpointRecord) -> list[str]:
    """The names an endpoint is resolvable by on its network (none on the default bridge)."""
    if net.name == "bridge" or net.driver != "bridge":
        return []
    return [ep.name, *ep.aliases, ep.container_id[:12]]


class NameTable:
    """Answers the resolver's questions from the network tables, scoped to the asker's networks."""

    def __init__(self, store: NetworkStore, config: NetworkConfig) -> None:
        self.store, self.config = store, config

    def _network(self, network_id: str) -> NetworkRecord | None:
        return next((n for n in self.store.networks() if n.id == network_id), None)

    def served(self, ep: EndpointRecord) -> bool:
        """Whether this endpoint's container gets the embedded DNS (user-defined bridge networks)."""
        net = self._network(ep.network_id)
        return net is not None and net.driver == "bridge" and net.name != "bridge"

    def _peers(self, container_id: str) -> list[tuple[NetworkRecord, EndpointRecord]]:
        peers = []
        for mine in self.store.endpoints(container_id=container_id):
            net = self._network(mine.network_id)
            if net is not None:
                peers += [(net, ep) for ep in self.store.endpoints(network_id=net.id)]
        return peers

    def lookup(self, container_id: str, name: str) -> list[str]:
        """Addresses (IPv4 and IPv6) of `name` on the networks this container shares."""
        linked = self._linked(container_id, name)
        found = []
        for net, ep in self._peers(container_id):
            names = {n.lower() for n in dns_names(net, ep)}
            if not names or not ep.ip:
                continue
            if linked:  # a link's alias wins over the names on the network, as libnetwork resolves it
                match = (net.id, ep.name.lower()) in linked
            else:
                match = name in names or name == ep.container_id or name.removesuffix("." + net.name.lower()) in names
            if match:
                found += [ep.ip, *([ep.ip6] if ep.ip6 else [])]
        return list(dict.fromkeys(found))

    def _linked(self, container_id: str, name: str) -> set[tuple[str, str]]:
        """(network ID, linked container's name) for each link of this container whose alias `name` is."""
        linked = set()
        for mine in self.store.endpoints(container_id=container_id):
            net = self._network(mine.network_id)
            for alias, target in mine.links if net is not None else ():
                if name in (alias.lower(), f"{alias.lower()}.{net.name.lower()}"):
                    linked.add((net.id, target.lower()))
        return linked

    def reverse(self, container_id: str, ip: str) -> str | None:
        """`<name>.<network>` for an address on a shared network."""
        for net, ep in self._peers(container_id):
            if ip in (ep.ip, ep.ip6) and dns_names(net, ep):
                return f"{ep.name}.{net.name}"
        return None

    def upstreams(self, container_id: str) -> list[tuple[str, int]]:
        """Where names we do not own go: the configured servers, else the host's resolv.conf."""
        servers = self.config.upstream_dns
        if not servers:
            try:
                host = parse_resolv_conf(self.config.host_resolv_conf.read_text())
            except OSError:
                host = parse_resolv_conf("")
            servers = upstream_servers(host)
        return [_host_port(s) for s in servers]


def _host_port(server: str) -> tuple[str, int]:
    """`1.2.3.4` -> (1.2.3.4, 53); `127.0.0.1:5353` -> (127.0.0.1, 5353)."""
    host, sep, port = server.rpartition(":")
    return (host, int(port)) if sep and port.isdigit() and "." in host else (server, 53)
