"""Docker's `GET /networks` filters as pure rules (moby's daemon/network/filter.go).

name=^front  id=9c1d    regular expressions searched in the name / ID, as moby's Match
driver=bridge           exact
label=k[=v]             every one must hold
scope=local             exact (every dockyard network is local)
type=builtin|custom     the predefined networks (bridge, host, none) or the others
dangling=true|false     custom networks without containers / the rest
"""

from __future__ import annotations

from dockyard.engine.containers.rules import labels_match
from dockyard.engine.filtering import boolean, search
from dockyard.errors import InvalidArgument
from dockyard.network.networks import PREDEFINED
from dockyard.network.store import NetworkRecord

TYPES = ("builtin", "custom")
_DANGLING = 'invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")'


def check_filters(filters: dict[str, list[str]]) -> None:
    """Refuse bad type and dangling values in dockerd's words. Raises InvalidArgument."""
    for value in filters.get("type", []):
        if value not in TYPES:
            raise InvalidArgument(f"invalid filter: 'type'='{value}'")
    if "dangling" in filters:
        dangling(filters["dangling"])


def dangling(values: list[str]) -> bool:
    return boolean("dangling", values, _DANGLING)


def matches(net: NetworkRecord, filters: dict[str, list[str]], in_use: bool) -> bool:
    """Whether `docker network ls --filter` shows the network (filters already checked)."""
    builtin = net.name in PREDEFINED
    checks = {
        "name": lambda v: search(v, net.name),
        "id": lambda v: search(v, net.id),
        "driver": lambda v: net.driver == v,
        "scope": lambda v: v == "local",
        "type": lambda v: (v == "builtin") == builtin,
    }
    if "dangling" in filters and dangling(filters["dangling"]) != (not builtin and not in_use):
        return False
    if not labels_match(dict(net.labels), filters.get("label", [])):
        return False
    return all(any(check(v) for v in filters[key]) for key, check in checks.items() if key in filters)
