"""The daemon's network settings (the `bridge`/`bip`/`default-address-pools` of daemon.json)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockyard.network.ipam import DEFAULT_POOLS


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Names and pools the controller uses; the defaults suit a host that also runs docker."""

    bridge_name: str = "dockyard0"  # device of the default `bridge` network
    default_subnet: str | None = None  # None: the first pool subnet clashing with nothing
    address_pools: tuple[tuple[str, int], ...] = DEFAULT_POOLS
    chain_prefix: str = "DOCKYARD"  # iptables chains DOCKYARD, DOCKYARD-FORWARD, ...
    bridge_prefix: str = "dy-"  # user-defined bridges: dy-<network id 12>
    veth_prefix: str = "dyv"  # host side of container veths
    mtu: int = 1500
    host_resolv_conf: Path = Path("/etc/resolv.conf")
    upstream_dns: tuple[str, ...] = ()  # where the embedded DNS forwards; () = host resolv.conf
    iptables: str = "iptables"
