"""`dockyard network create|ls|inspect|rm|prune|connect|disconnect`."""

from __future__ import annotations

import sys

from dockyard.cli.batch import each
from dockyard.cli.client import path_id
from dockyard.cli.commands import inspect, prune
from dockyard.cli.filters import parse_filters
from dockyard.cli.flags import Parser, UsageError, multi
from dockyard.cli.runopts import parse_labels
from dockyard.cli.tables import render
from dockyard.units import truncate_id

DEFAULT_FORMAT = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
HEADERS = {
    "ID": "NETWORK ID",
    "Name": "NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "IPv6": "IPV6",
    "Internal": "INTERNAL",
    "Labels": "LABELS",
    "CreatedAt": "CREATED AT",
}


def _contains(subnet: str, address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(subnet, strict=False)
    except ValueError:
        return False


def create_body(ns) -> dict:
    """The POST /networks/create body for `network create` flags."""
    if len(ns.gateway) > len(ns.subnet) or len(ns.ip_range) > len(ns.subnet):
        raise UsageError("every --gateway and --ip-range needs a matching --subnet")
    pools = []
    for index, subnet in enumerate(ns.subnet):
        pool = {"Subnet": subnet}
        if index < len(ns.gateway):
            pool["Gateway"] = ns.gateway[index]
        if index < len(ns.ip_range):
            pool["IPRange"] = ns.ip_range[index]
        pools.append(pool)
    for name, address in parse_labels(ns.aux_address).items():  # each to the subnet holding it, as docker
        pool = next((p for p in pools if _contains(p["Subnet"], address)), None)
        if pool is None:
            raise UsageError(f"no matching subnet for aux-address {address}")
        pool.setdefault("AuxiliaryAddresses", {})[name] = address
    return {
        "Name": ns.name,
        "Driver": ns.driver,
        "Internal": ns.internal,
        "Attachable": ns.attachable,
        "EnableIPv6": ns.ipv6,
        "Options": parse_labels(ns.opt),
        "Labels": parse_labels(ns.label),
        "IPAM": {"Driver": "default", "Config": pools, "Options": {}},
    }


def create(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] NETWORK", "Create a network")
    parser.add_argument("-d", "--driver", default="bridge")
    multi(parser, "--subnet", dest="subnet")
    multi(parser, "--gateway", dest="gateway")
    multi(parser, "--ip-range", dest="ip_range")
    multi(parser, "--aux-address", dest="aux_address")
    parser.add_argument("--internal", action="store_true")
    parser.add_argument("--attachable", action="store_true")
    parser.add_argument("--ipv6", action="store_true")
    multi(parser, "-o", "--opt", dest="opt")
    multi(parser, "--label", dest="label")
    parser.add_argument("name")
    ns = parser.parse(argv)
    sys.stdout.write(ctx.client.post("/networks/create", None, create_body(ns))["Id"] + "\n")
    return 0


class NetworkRow(dict):
    """A network as `network ls --format` sees it."""

    def __init__(self, data: dict, trunc: bool) -> None:
        labels = data.get("Labels") or {}
        super().__init__(
            ID=truncate_id(data.get("Id", "")) if trunc else data.get("Id", ""),
            Name=data.get("Name", ""),
            Driver=data.get("Driver", ""),
            Scope=data.get("Scope", ""),
            IPv6=str(bool(data.get("EnableIPv6"))).lower(),
            Internal=str(bool(data.get("Internal"))).lower(),
            CreatedAt=data.get("Created", ""),
            Labels=",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        )


def ls(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS]", "List networks")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--no-trunc", action="store_true")
    parser.add_argument("--format")
    multi(parser, "-f", "--filter", dest="filter")
    ns = parser.parse(argv)
    networks = ctx.client.get("/networks", {"filters": parse_filters(ns.filter)}) or []
    networks.sort(key=lambda n: n.get("Name", ""))
    fmt = "{{.ID}}" if ns.quiet else (ns.format if ns.format not in (None, "", "table") else DEFAULT_FORMAT)
    sys.stdout.write(render(fmt, [NetworkRow(n, not ns.no_trunc) for n in networks], HEADERS))
    return 0


def rm(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "NETWORK [NETWORK...]", "Remove one or more networks")
    parser.add_argument("-f", "--force", action="store_true")
    parser.add_argument("networks", nargs="+")
    ns = parser.parse(argv)
    return each(ns.networks, lambda ref: ctx.client.call("DELETE", f"/networks/{path_id(ref)}"))


def connect(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network")
    multi(parser, "--alias", dest="alias")
    parser.add_argument("--ip")
    parser.add_argument("--ip6")
    multi(parser, "--link", dest="link")
    multi(parser, "--link-local-ip", dest="link_local_ip")
    parser.add_argument("network")
    parser.add_argument("container")
    ns = parser.parse(argv)
    endpoint: dict = {"Aliases": ns.alias or None, "Links": ns.link or None}
    addresses = {"IPv4Address": ns.ip, "IPv6Address": ns.ip6, "LinkLocalIPs": ns.link_local_ip}
    if any(addresses.values()):
        endpoint["IPAMConfig"] = {key: value for key, value in addresses.items() if value}
    ctx.client.call(
        "POST",
        f"/networks/{path_id(ns.network)}/connect",
        None,
        {"Container": ns.container, "EndpointConfig": endpoint},
    )
    return 0


def disconnect(ctx, argv: list[str]) -> int:
    parser = Parser(ctx.prog, "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network")
    parser.add_argument("-f", "--force", action="store_true")
    parser.add_argument("network")
    parser.add_argument("container")
    ns = parser.parse(argv)
    ctx.client.call(
        "POST", f"/networks/{path_id(ns.network)}/disconnect", None, {"Container": ns.container, "Force": ns.force}
    )
    return 0


def inspect_(ctx, argv: list[str]) -> int:
    return inspect.inspect_main(ctx, argv, "network")


def prune_(ctx, argv: list[str]) -> int:
    return prune.network(ctx, argv)
