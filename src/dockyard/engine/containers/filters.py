"""Docker's `GET /containers/json` filters as pure rules (moby's daemon/list.go).

    status=exited  exited=137 (of a container that ran)  health=healthy
    ancestor=busybox (any name or ID of the image)  name=^web  id=3f2a  label=k[=v]
    before=<container>  since=<container>  expose=80[/tcp]  publish=8000-8080/udp
    network=<name or ID prefix>  volume=<name, source or destination>  isolation=default  is-task=false

`compile_filters` checks every value first (Docker's 400s, in its words) and resolves the
containers named by before/since; `matches` decides one record; `ports_match` decides on the
summary's Ports, as dockerd does (publish is the host's port, expose the container's).
`name`, `id` and `isolation` are regular expressions searched in the value, as moby's Match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dockyard.engine.containers.model import ZERO_TIME, Container
from dockyard.engine.containers.rules import labels_match
from dockyard.engine.filtering import boolean, search
from dockyard.errors import InvalidArgument

STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
HEALTH = ("starting", "healthy", "unhealthy", "none")
_MAX_PORT = 65535


@dataclass
class PsFilter:
    """Checked filters, with what they name resolved."""

    filters: dict[str, list[str]]
    before: Container | None = None
    since: Container | None = None
    exited: set[int] = field(default_factory=set)
    expose: set[str] = field(default_factory=set)
    publish: set[str] = field(default_factory=set)
    is_task: bool | None = None
    ancestors: set[str] = field(default_factory=set)  # image IDs the ancestor values name


def compile_filters(
    filters: dict[str, list[str]],
    lookup: Callable[[str], Container],
    image_id: Callable[[str], str | None] = lambda ref: None,
) -> PsFilter:
    """Check each value as dockerd does, resolve before/since (`lookup`) and each ancestor to an
    image ID (`image_id`; None for an image that does not exist, which matches nothing).
    Raises InvalidArgument, NotFound."""
    for status in filters.get("status", []):
        if status not in STATUSES:
            raise InvalidArgument(f"Invalid filter 'status={status}'")
    for health in filters.get("health", []):
        if health not in HEALTH:
            raise InvalidArgument(f"Unrecognised filter value for health: {health}")
    result = PsFilter(filters, exited={_atoi(v) for v in filters.get("exited", [])})
    for value in filters.get("before", []):
        result.before = lookup(value)
    for value in filters.get("since", []):
        result.since = lookup(value)
    for key, ports in (("expose", result.expose), ("publish", result.publish)):
        for value in filters.get(key, []):
            ports.update(port_set(key, value))
    if "is-task" in filters:
        result.is_task = boolean("is-task", filters["is-task"])
    result.ancestors = {found for found in map(image_id, filters.get("ancestor", [])) if found}
    return result


def _atoi(value: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", value):
        raise InvalidArgument(f'strconv.Atoi: parsing "{value}": invalid syntax')
    return int(value)


def port_set(key: str, value: str) -> set[str]:
    """`80`, `80/udp`, `8000-8080/tcp` -> {"80/tcp", ...}. Raises InvalidArgument in dockerd's words."""
    if ":" in value:
        raise InvalidArgument(f"filter for '{key}' should not contain ':': {value}")
    port, _, proto = value.partition("/")
    start, sep, end = port.partition("-")
    try:
        first, last = _port(start), _port(end) if sep else _port(start)
    except ValueError as exc:
        raise InvalidArgument(f"error while looking up for {key} {value}: {exc}") from None
    if last < first:
        raise InvalidArgument(f"error while looking up for {key} {value}: invalid range specified for port: {port}")
    return {f"{number}/{(proto or 'tcp').lower()}" for number in range(first, last + 1)}


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > _MAX_PORT:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    return int(text)


def _has_run(container: Container) -> bool:
    return container.state.started_at != ZERO_TIME


def _health(container: Container) -> str:
    return (container.state.health or {}).get("Status") or "none"


def _on_network(container: Container, value: str) -> bool:
    networks = container.network_settings.get("Networks") or {}
    return value in networks or any((n or {}).get("NetworkID", "").startswith(value) for n in networks.values())


def _mounts(container: Container, value: str) -> bool:
    return any(value in (m.get("destination"), m.get("name") or m.get("source")) for m in container.mounts)


_CHECKS: dict[str, Callable[[Container, str], bool]] = {
    "status": lambda c, v: c.state.status == v,
    "name": lambda c, v: search(v, "/" + c.name) or search(v, c.name),
    "id": lambda c, v: search(v, c.id),
    "health": lambda c, v: _health(c) == v,
    "isolation": lambda c, v: search(v, c.host_config.get("Isolation") or "default"),
    "network": _on_network,
    "volume": _mounts,
}


def matches(container: Container, ps: PsFilter) -> bool:
    """Whether the record passes every filter but the port ones (see `ports_match`)."""
    if ps.before and not (container.created < ps.before.created and container.id != ps.before.id):
        return False
    if ps.since and not (container.created > ps.since.created and container.id != ps.since.id):
        return False
    if ps.exited and (container.state.running or not _has_run(container) or container.state.exit_code not in ps.exited):
        return False
    if ps.is_task:  # dockyard runs no swarm tasks
        return False
    if "ancestor" in ps.filters and container.image_id not in ps.ancestors:
        return False
    if not labels_match(container.config.get("Labels") or {}, ps.filters.get("label", [])):
        return False
    return all(any(check(container, v) for v in ps.filters[key]) for key, check in _CHECKS.items() if key in ps.filters)


def ports_match(summary: dict, ps: PsFilter) -> bool:
    """dockerd's expose/publish test on a summary's Ports: any private port exposed, or public port published."""
    if not (ps.expose or ps.publish):
        return True
    for port in summary.get("Ports") or []:
        kind = port.get("Type", "tcp")
        if f"{port.get('PublicPort')}/{kind}" in ps.publish or f"{port['PrivatePort']}/{kind}" in ps.expose:
            return True
    return False
