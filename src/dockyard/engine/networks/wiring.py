"""Containers on real networks: the `ContainerNetworking` seam over the network controller.

    NetworkMode         namespace                  endpoints              /etc/hosts, resolv.conf
    bridge (default)    its own (the runtime's)    default `bridge`       own address; host's servers
    <user network>      its own                    that one (+ others)    own addresses; 127.0.0.11
    host                the daemon's               `host`, no address     the host's files as they are
    none                its own, loopback only     `none`, no address     no address; host's servers
    container:<name>    the other container's      none of its own        the other container's files

The networks a container joins at start are its NetworkingConfig.EndpointsConfig, keyed by
network name, the NetworkMode one first (`prepare` puts it there; `join`/`leave` on a
stopped container edit it). The files are written at create and again, in place, once the
endpoints exist: the runtime has bind-mounted them by then, so a rename would go unseen.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from dockyard import atomic
from dockyard.engine.containers import links
from dockyard.engine.containers.model import Container
from dockyard.engine.containers.table import ContainerTable
from dockyard.errors import (
    AddressesExhausted,
    Conflict,
    Forbidden,
    InvalidArgument,
    NoSuchNetwork,
    NotFound,
    RuntimeFailure,
)
from dockyard.network import hosts, ipam, resolvconf
from dockyard.network.config import NetworkConfig
from dockyard.network.controller import USER_IP_NEEDS_SUBNET, USER_IP_ON_PREDEFINED, NetworkController
from dockyard.network.portspec import PortSpec, parse_port_bindings
from dockyard.paths import DataRoot

HOST_HOSTS = Path("/etc/hosts")
NO_ENDPOINT = "container cannot be disconnected from host network or connected to host network"
SHARED_NETNS = (
    "container sharing network namespace with another container or host cannot be connected to any other network"
)
_CLEARED = {"EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": ""}


def network_config(settings: dict) -> NetworkConfig:
    """dockerd's daemon.json network keys (`bip`, `default-address-pools`, `mtu`) as our config.

    `bip` picks the default bridge's subnet (its gateway is the subnet's first address).
    Raises InvalidArgument for values of the wrong shape.
    """
    options: dict = {}
    try:
        if settings.get("bip"):
            options["default_subnet"] = str(ipaddress.ip_interface(settings["bip"]).network)
        if settings.get("default-address-pools"):
            options["address_pools"] = tuple(
                (str(ipaddress.ip_network(pool["base"])), int(pool["size"]))
                for pool in settings["default-address-pools"]
            )
        if settings.get("mtu"):
            options["mtu"] = int(settings["mtu"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"invalid network settings in daemon configuration: {exc}") from None
    return NetworkConfig(**options)


def _move_links_to_endpoint(container: Container, mode: str) -> None:
    """On a user-defined network dockerd keeps `--link`s as the endpoint's Links (names only
    that container resolves) and HostConfig.Links empty."""
    endpoint = container.networking_config["EndpointsConfig"][mode]
    given = list(endpoint.get("Links") or [])
    endpoint["Links"] = given + [spec for spec in container.host_config["Links"] if spec not in given]
    container.host_config["Links"] = None


def network_mode(container: Container) -> str:
    """HostConfig.NetworkMode with docker's `default` spelled out as `bridge`."""
    mode = container.host_config.get("NetworkMode") or "bridge"
    return "bridge" if mode == "default" else mode


def _bridged(mode: str) -> bool:
    """On bridge networks (default or user-defined), not host, none or another's namespace."""
    return mode not in ("host", "none") and not mode.startswith("container:")


def netns_of(pid: int) -> str:
    return f"/proc/{pid}/ns/net"


def write_file(path: Path, text: str, in_place: bool) -> None:
    """Atomically (temp + rename), or in place when the file is already bind-mounted somewhere;
    never fsynced: the files are made again from the record (Lifecycle.start restores any a
    power loss emptied, and connect rewrites them at every start)."""
    if in_place and path.exists():
        with open(path, "w") as f:
            f.write(text)
        return
    atomic.write_text(path, text, durable=False)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class ContainerNetworks:
    """Gives containers endpoints, published ports and their network files.

    `containers` finds another container by name or ID (for `container:<name>`).
    """

    def __init__(
        self, controller: NetworkController, root: DataRoot, containers: ContainerTable, host_hosts: Path = HOST_HOSTS
    ) -> None:
        self.controller, self.root, self.containers, self.host_hosts = controller, root, containers, host_hosts

    # -- the seam the container service calls ---------------------------------------------

    def prepare(self, container: Container, directory: Path) -> None:
        """At create: check every network setting, pin the networks to join, write the files."""
        mode = network_mode(container)
        container.host_config["NetworkMode"] = container.host_config.get("NetworkMode") or "default"  # kept as asked
        self._check(container, mode)
        container.networking_config = {"EndpointsConfig": self._endpoints_at_create(container, mode)}
        if links.user_defined(mode) and container.host_config.get("Links"):
            _move_links_to_endpoint(container, mode)
        if mode == "host" and container.config.get("Hostname") == container.id[:12]:
            container.config["Hostname"] = socket.gethostname()
        elif mode.startswith("container:") and (peer := self._peer(mode)):
            container.config["Hostname"] = peer.config.get("Hostname") or ""
        container.network_settings = self._idle_settings(container)
        self.write_files(container, directory)

    def write_files(self, container: Container, directory: Path) -> None:
        """hostname, hosts and resolv.conf, replaced atomically (connect rewrites them in place)."""
        self._write_files(container, directory, in_place=False)

    def wires(self, container: Container) -> bool:
        """Always: even with `none`, connect() rewrites the network files in place (a process
        already running could read one half written) and may find an endpoint to refuse."""
        return True

    def connect(self, container: Container, pid: int) -> dict:
        """Between runtime create and start: endpoints, ports, files; all or nothing.

        Raises RuntimeFailure (what the container service reports as a failed start).
        """
        try:
            for name, endpoint in self._endpoints(container).items():
                self._attach(container, name, endpoint, netns_of(pid))
            self._publish(container)
            self._write_files(container, self.root.container(container.id), in_place=True)
        except Exception as exc:  # netlink and OS errors too: nothing may stay half-wired
            self.controller.release(container.id)
            if isinstance(exc, (RuntimeFailure, InvalidArgument, AddressesExhausted)):
                raise
            raise RuntimeFailure(f"failed to set up container networking: {exc}") from None
        return self.settings(container, pid)

    def release(self, container: Container) -> None:
        """Its process exited or it is being removed: endpoints, ports and rules go."""
        if self.controller.endpoints(container.id):  # else nothing to undo (never started, released)
            self.controller.release(container.id)
        container.network_settings = self._idle_settings(container)

    # -- live changes (`docker network connect / disconnect`) --------------------------------

    def join(self, container: Container, network: str, endpoint: dict) -> None:
        """Connect to one more network: now if the container runs, else at its next start.

        The caller holds the container's lock and saves it. Raises Conflict, Forbidden, NoSuchNetwork.
        """
        mode = network_mode(container)
        if not _bridged(mode):
            raise InvalidArgument(NO_ENDPOINT if mode in ("host", "none") else SHARED_NETNS)
        net = self.controller.get(network)
        if net.driver != "bridge":
            raise InvalidArgument(NO_ENDPOINT)
        joined = self._endpoints(container)
        if net.name in joined:
            raise Forbidden(f"endpoint with name {container.name} already exists in network {net.name}")
        self._check_endpoint(net.name, endpoint)
        live = bool(container.state.running and container.state.pid)
        if live:
            self._attach(container, net.name, endpoint, netns_of(container.state.pid))
        joined[net.name] = endpoint
        container.networking_config["EndpointsConfig"] = joined
        self._refresh(container, live)

    def leave(self, container: Container, network: str) -> None:
        """Disconnect from a network, live or for the next start. Raises InvalidArgument, Conflict."""
        net = self.controller.get(network)
        joined = self._endpoints(container)
        if net.name not in joined:
            raise InvalidArgument(f"container {container.id} is not connected to network {net.name}")
        if not _bridged(network_mode(container)) and net.name in ("host", "none"):
            raise InvalidArgument(NO_ENDPOINT)
        live = bool(container.state.running and container.state.pid)
        if live:
            self.controller.disconnect(net.id, container.id)
        del joined[net.name]
        container.networking_config["EndpointsConfig"] = joined
        self._refresh(container, live)

    def settings(self, container: Container, pid: int) -> dict:
        """NetworkSettings of a running container, in Docker's shape."""
        exposed = tuple((container.config.get("ExposedPorts") or {}).keys())
        sandbox = netns_of(pid) if _bridged(network_mode(container)) else ""
        settings = self.controller.network_settings(container.id, exposed, sandbox)
        for name, endpoint in self._endpoints(container).items():  # what was asked, as dockerd shows it
            shown = (settings.get("Networks") or {}).get(name)
            if shown is not None:
                shown["IPAMConfig"] = endpoint.get("IPAMConfig") or None
                shown["Links"] = endpoint.get("Links") or None
        return settings

    def _refresh(self, container: Container, live: bool) -> None:
        """After a live change: settings and files again; else the settings of a stopped container."""
        if not live:
            container.network_settings = self._idle_settings(container)
            return
        container.network_settings = self.settings(container, container.state.pid)
        self._write_files(container, self.root.container(container.id), in_place=True)

    # -- checks at create ----------------------------------------------------------------

    def _check(self, container: Container, mode: str) -> None:
        specs = self._port_specs(container)
        if mode.startswith("container:"):
            if specs:
                raise InvalidArgument("conflicting options: port publishing and the container type network mode")
        for raw in container.host_config.get("ExtraHosts") or []:
            hosts.parse_extra_host(raw, self.controller.host_gateway_ip())
        for server in container.host_config.get("Dns") or []:
            try:
                ipaddress.ip_address(server)
            except ValueError:
                raise InvalidArgument(f"{server} is not an ip address") from None

    def _check_endpoint(self, network: str, endpoint: dict) -> None:
        if endpoint.get("Aliases") and network == "bridge":
            raise InvalidArgument("network-scoped alias is supported only for containers in user defined networks")
        if endpoint.get("MacAddress"):
            ipam.check_mac(endpoint["MacAddress"])
        links.validate(endpoint.get("Links"))
        ipam_config = endpoint.get("IPAMConfig") or {}
        if ipam_config.get("IPv6Address"):
            self._check_ipv6_address(network, ipam_config["IPv6Address"])
        ipam.parse_link_local(ipam_config.get("LinkLocalIPs") or ())  # refused at create, as current moby

    def _check_ipv6_address(self, network: str, raw: str) -> None:
        """An IPv6Address asked for: an IPv6 address, on a user-defined network with IPv6 (when
        it exists yet); whether it is in the subnet and free is the connect's to say."""
        try:
            ipam.parse_address(raw, 6)
        except ValueError:
            raise InvalidArgument(f"invalid IPv6 address: {raw}") from None
        if network in ("bridge", "host", "none"):
            raise InvalidArgument(USER_IP_ON_PREDEFINED)
        try:
            net = self.controller.get(network)
        except NoSuchNetwork:
            return
        if not net.ipv6:
            raise InvalidArgument(USER_IP_NEEDS_SUBNET)

    def _endpoints_at_create(self, container: Container, mode: str) -> dict[str, dict]:
        """EndpointsConfig keyed by network name, the NetworkMode network first."""
        if mode.startswith("container:"):
            return {}
        given = (container.networking_config or {}).get("EndpointsConfig") or {}
        named = {("bridge" if key == "default" else key): dict(value or {}) for key, value in given.items()}
        ordered = {mode: named.pop(mode, {})}
        if _bridged(mode):
            ordered.update((self._network_name(key), value) for key, value in named.items())
        for name, endpoint in ordered.items():
            self._check_endpoint(name, endpoint)
        return ordered

    def _network_name(self, ref: str) -> str:
        """The name of the network `ref` (an ID or name); unknown ones fail at start, as in docker."""
        try:
            return self.controller.get(ref).name
        except NoSuchNetwork:
            return ref

    def _peer(self, mode: str) -> Container | None:
        """The container of `container:<name>`; None if there is none (start then fails, as in docker)."""
        try:
            return self.containers.get(mode.partition(":")[2])
        except NotFound:
            return None

    def _port_specs(self, container: Container) -> list[PortSpec]:
        host = container.host_config
        return parse_port_bindings(
            host.get("PortBindings"),
            (container.config.get("ExposedPorts") or {}).keys(),
            bool(host.get("PublishAllPorts")),
        )

    # -- start ---------------------------------------------------------------------------

    def _endpoints(self, container: Container) -> dict[str, dict]:
        return dict((container.networking_config or {}).get("EndpointsConfig") or {})

    def _attach(self, container: Container, network: str, endpoint: dict, netns_path: str) -> None:
        ipam_config = endpoint.get("IPAMConfig") or {}
        self.controller.connect(
            network,
            container.id,
            netns_path,
            container.name,
            tuple(endpoint.get("Aliases") or ()),
            endpoint.get("MacAddress") or None,
            ipam_config.get("IPv4Address") or None,
            tuple(ipam_config.get("LinkLocalIPs") or ()),
            ipam_config.get("IPv6Address") or None,
            tuple(self._link_names(spec) for spec in endpoint.get("Links") or ()),
        )

    def _link_names(self, spec: str) -> tuple[str, str]:
        """(alias, the linked container's name) of a link on a user-defined network; a link to
        a container that does not exist is kept by the name given and resolves to nothing."""
        link = links.parse(spec)
        try:
            return link.alias, self.containers.get(link.name).name
        except NotFound:
            return link.alias, link.name

    def _publish(self, container: Container) -> None:
        if not _bridged(network_mode(container)):
            return  # docker discards published ports in host and none modes
        try:
            self.controller.publish(container.id, self._port_specs(container))
        except (Conflict, InvalidArgument) as exc:
            endpoint = next((ep.endpoint_id for ep in self.controller.endpoints(container.id)), "")
            raise RuntimeFailure(
                f"driver failed programming external connectivity on endpoint {container.name} ({endpoint}): {exc}"
            ) from None

    # -- files and settings ----------------------------------------------------------------

    def _write_files(self, container: Container, directory: Path, in_place: bool) -> None:
        """hostname, hosts and resolv.conf as the container's network mode wants them."""
        mode = network_mode(container)
        peer = self._peer(mode) if mode.startswith("container:") else None
        if peer is not None:
            texts = {name: _read(self.root.container(peer.id) / name) for name in ("hostname", "hosts", "resolv.conf")}
        else:
            texts = {
                "hostname": (container.config.get("Hostname") or "") + "\n",
                "hosts": self._hosts(container, mode),
                "resolv.conf": self._resolv_conf(container, mode),
            }
        for name, text in texts.items():
            write_file(directory / name, text, in_place)

    def _hosts(self, container: Container, mode: str) -> str:
        extra = [
            hosts.parse_extra_host(raw, self.controller.host_gateway_ip())
            for raw in container.host_config.get("ExtraHosts") or []
        ]
        if mode == "host":
            lines = [f"{entry.ip}\t{' '.join(entry.names)}\n" for entry in extra]
            return _read(self.host_hosts) + "".join(lines)
        extra += self._link_hosts(container)
        addresses = [ip for ep in self.controller.endpoints(container.id) for ip in (ep.ip, ep.ip6) if ip]
        return hosts.render_hosts(
            container.config.get("Hostname") or "", addresses, extra, container.config.get("Domainname") or ""
        )

    def _link_hosts(self, container: Container) -> list[hosts.HostEntry]:
        """Legacy links' lines; none before the start (its own check refuses stopped links)."""
        if not container.host_config.get("Links") or not links.legacy(container):
            return []
        try:
            resolved = links.resolve(container, self.containers.get)
        except (InvalidArgument, NotFound):
            return []
        return [hosts.HostEntry(address, links.host_names(link, child)) for link, child, address in resolved if address]

    def _resolv_conf(self, container: Container, mode: str) -> str:
        host_text = _read(self.controller.config.host_resolv_conf)
        if mode == "host":
            return host_text
        host = container.host_config
        embedded = any(name not in ("bridge", "none") for name in self._endpoints(container))
        conf = resolvconf.container_resolv_conf(
            resolvconf.parse_resolv_conf(host_text),
            host.get("Dns") or (),
            host.get("DnsSearch") or (),
            host.get("DnsOptions") or (),
            embedded,
        )
        return resolvconf.render_resolv_conf(conf)

    def _idle_settings(self, container: Container) -> dict:
        """NetworkSettings of a container that is not running: its networks, no addresses."""
        networks = {}
        for name, endpoint in self._endpoints(container).items():
            try:
                network_id = self.controller.get(name).id
            except NoSuchNetwork:
                network_id = ""
            networks[name] = {
                "IPAMConfig": endpoint.get("IPAMConfig"),
                "Links": endpoint.get("Links") or None,
                "Aliases": endpoint.get("Aliases") or None,
                "NetworkID": network_id,
                "DriverOpts": None,
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "DNSNames": None,
                **_CLEARED,
                "MacAddress": endpoint.get("MacAddress") or "",  # the one asked for, as dockerd shows
            }
        return {"Ports": {}, "SandboxKey": "", "SandboxID": "", **_CLEARED, "Networks": networks}
