"""Docker Engine API JSON for networks (`GET /networks`) and a container's NetworkSettings.

Pure: records in, dicts with Docker's keys out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Network, IPv6Network

from dockyard.network.portspec import PortBinding, ports_json
from dockyard.network.store import EndpointRecord, NetworkRecord


def prefix_len(net: NetworkRecord) -> int:
    return IPv4Network(net.subnet).prefixlen if net.subnet else 0


def prefix_len6(net: NetworkRecord) -> int:
    return IPv6Network(net.subnet6).prefixlen if net.ipv6 else 0


def network_json(net: NetworkRecord, endpoints: Iterable[EndpointRecord] = (), gateway_shown: bool = True) -> dict:
    """One entry of `GET /networks`, or `GET /networks/{id}` when endpoints are given;
    without `gateway_shown` the IPAM config leaves the gateway out (the default bridge's,
    as dockerd's, unless daemon.json's `bip` named it)."""
    config = ipam_config(net, gateway_shown)
    containers = {
        ep.container_id: {
            "Name": ep.name,
            "EndpointID": ep.endpoint_id,
            "MacAddress": ep.mac,
            "IPv4Address": f"{ep.ip}/{prefix_len(net)}" if ep.ip else "",
            "IPv6Address": f"{ep.ip6}/{prefix_len6(net)}" if ep.ip6 else "",
        }
        for ep in endpoints
    }
    return {
        "Name": net.name,
        "Id": net.id,
        "Created": net.created,
        "Scope": "local",
        "Driver": net.driver,
        "EnableIPv4": True,
        "EnableIPv6": net.ipv6,
        "IPAM": {"Driver": "default", "Options": None, "Config": config},  # null, as dockerd
        "Internal": net.internal,
        "Attachable": net.attachable,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": containers,
        "Options": dict(net.options),
        "Labels": dict(net.labels),
    }


def ipam_config(net: NetworkRecord, gateway_shown: bool = True) -> list[dict]:
    """IPAM.Config as dockerd shows it: per family the pools as given, else the one allocated
    (its subnet and gateway; without `gateway_shown` the subnet alone)."""
    asked = [dict(pool) for pool in net.asked_pools]
    v4 = [pool for pool in asked if ":" not in str(pool["Subnet"])]
    v6 = [pool for pool in asked if ":" in str(pool["Subnet"])]
    if not v4 and net.subnet:
        v4 = [_pool(net.subnet, net.ip_range, net.gateway if gateway_shown else None, net.aux_addresses)]
    if not v6 and net.ipv6:
        v6 = [_pool(net.subnet6, net.ip_range6, net.gateway6, net.aux_addresses6)]
    return v4 + v6


def endpoint_json(net: NetworkRecord, ep: EndpointRecord, dns_names: Iterable[str] = ()) -> dict:
    """NetworkSettings.Networks[<name>] for one attachment."""
    return {
        "IPAMConfig": None,
        "Links": None,
        "Aliases": list(ep.aliases) or None,
        "MacAddress": ep.mac,
        "DriverOpts": None,
        "NetworkID": net.id,
        "EndpointID": ep.endpoint_id,
        "Gateway": net.gateway if ep.ip else "",
        "IPAddress": ep.ip or "",
        "IPPrefixLen": prefix_len(net) if ep.ip else 0,
        "IPv6Gateway": net.gateway6 if ep.ip6 else "",
        "GlobalIPv6Address": ep.ip6 or "",
        "GlobalIPv6PrefixLen": prefix_len6(net) if ep.ip6 else 0,
        "DNSNames": list(dns_names) or None,
    }


def network_settings(
    attachments: Iterable[tuple[NetworkRecord, EndpointRecord]],
    bindings: Iterable[PortBinding],
    exposed: Iterable[str] = (),
    sandbox_key: str = "",
    dns_names: dict[str, list[str]] | None = None,
) -> dict:
    """A container's NetworkSettings; the top-level address fields mirror the default bridge."""
    attachments = list(attachments)
    networks = {net.name: endpoint_json(net, ep, (dns_names or {}).get(net.id, ())) for net, ep in attachments}
    default = networks.get("bridge", {})
    return {
        "Bridge": "",
        "SandboxID": sandbox_key.rsplit("/", 3)[-3] if sandbox_key.startswith("/proc/") else "",
        "SandboxKey": sandbox_key,
        "HairpinMode": False,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "Ports": ports_json(bindings, exposed),
        "SecondaryIPAddresses": None,
        "SecondaryIPv6Addresses": None,
        "EndpointID": default.get("EndpointID", ""),
        "Gateway": default.get("Gateway", ""),
        "GlobalIPv6Address": default.get("GlobalIPv6Address", ""),
        "GlobalIPv6PrefixLen": default.get("GlobalIPv6PrefixLen", 0),
        "IPAddress": default.get("IPAddress", ""),
        "IPPrefixLen": default.get("IPPrefixLen", 0),
        "IPv6Gateway": default.get("IPv6Gateway", ""),
        "MacAddress": default.get("MacAddress", ""),
        "Networks": networks,
    }


def _pool(subnet: str, ip_range: str, gateway: str | None, aux: Mapping[str, str]) -> dict:
    """One IPAM.Config entry, with IPRange, Gateway and AuxiliaryAddresses only when set (as dockerd)."""
    pool = {"Subnet": subnet}
    if ip_range:
        pool["IPRange"] = ip_range
    if gateway:
        pool["Gateway"] = gateway
    if aux:
        pool["AuxiliaryAddresses"] = dict(aux)
    return pool
