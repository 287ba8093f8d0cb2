"""moby's checks of a `docker network create` IPAM.Config (ValidateIPAM, API 1.44 wording). Pure.

    validate(configs, ipv6)   one 400 ("invalid network config:") naming every problem of every pool

A pool is a subnet, optionally an `IPRange` inside it and `AuxiliaryAddresses` of it, and a
gateway in it; an IPv6 pool is checked only when the network enables IPv6 (moby's rule).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from dockyard.errors import InvalidArgument


def join(errors: list[str]) -> str:
    """moby's multierror.Join: one error as itself, several as a bulleted list."""
    if len(errors) == 1:
        return errors[0].strip()
    return "* " + "\n* ".join(e.replace("\n", "\n\t") for e in errors)


def _prefix(raw: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """Go's netip.ParsePrefix: an address and a length, host bits allowed; None if not one."""
    if not isinstance(raw, str) or raw.count("/") != 1:
        return None
    try:
        return ipaddress.ip_interface(raw).network if raw.split("/")[1].isdigit() else None
    except ValueError:
        return None


def _address_problem(raw: str, subnet: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "invalid address"
    if address.version != subnet.version:
        return f"parent subnet is an IPv{subnet.version} block"
    if address not in subnet:
        return f"parent subnet {subnet} doesn't contain this address"
    return None


def _range_problems(raw: str, subnet: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    if not raw:
        return []
    given = _prefix(raw)
    if given is None:
        return [f"invalid ip-range {raw}: invalid CIDR block notation"]
    if given.version != subnet.version:
        return [f"invalid ip-range {raw}: parent subnet is an IPv{subnet.version} block"]
    problems = []
    if given.prefixlen < subnet.prefixlen:
        problems.append(f"invalid ip-range {raw}: CIDR block is bigger than its parent subnet {subnet}")
    if ipaddress.ip_interface(raw).ip != given.network_address:
        problems.append(f"invalid ip-range {raw}: it should be {given}")
    if not subnet.overlaps(given):  # type: ignore[arg-type]  # same version, checked above
        problems.append(f"invalid ip-range {raw}: parent subnet {subnet} doesn't contain ip-range")
    return problems


def _pool_problems(config: Mapping, ipv6: bool) -> list[str]:
    raw = config.get("Subnet") or ""
    subnet = _prefix(raw)
    if subnet is None:
        return [f"invalid subnet {raw}: invalid CIDR block notation"]
    if subnet.version == 6 and not ipv6:
        return []
    problems = []
    if ipaddress.ip_interface(raw).ip != subnet.network_address:
        problems.append(f"invalid subnet {raw}: it should be {subnet}")
    problems += _range_problems(config.get("IPRange") or "", subnet)
    if config.get("Gateway") and (why := _address_problem(config["Gateway"], subnet)):
        problems.append(f"invalid gateway {config['Gateway']}: {why}")
    for name, address in (config.get("AuxiliaryAddresses") or {}).items():
        if why := _address_problem(address, subnet):
            problems.append(f"invalid auxiliary address {name}: {why}")
    return problems


def validate(configs: Iterable[Mapping], ipv6: bool = False) -> None:
    """Raise InvalidArgument ("invalid network config:\\n...") listing every problem of every pool."""
    problems = [p for config in configs for p in _pool_problems(config, ipv6)]
    if problems:
        raise InvalidArgument("invalid network config:\n" + join(problems))
