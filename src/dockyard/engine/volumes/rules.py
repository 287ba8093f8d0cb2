"""Pure rules of the volume service: filters for ls and prune, Docker's JSON shape."""

from __future__ import annotations

from dockyard.engine import prune
from dockyard.engine.containers.rules import labels_match
from dockyard.engine.filtering import boolean, search
from dockyard.errors import InvalidArgument
from dockyard.volumes.store import VolumeRecord

LIST_FILTERS = ("name", "label", "driver", "dangling")
PRUNE_FILTERS = ("label", "label!", "all")


def check_filters(filters: dict[str, list[str]], allowed: tuple[str, ...]) -> None:
    """Unknown filters and non-boolean dangling/all values are dockerd's 400s. Raises InvalidArgument."""
    for key, values in filters.items():
        if key not in allowed:
            raise InvalidArgument(f"Invalid filter '{key}'")
        if key in ("dangling", "all"):
            boolean(key, values)


def listed(record: VolumeRecord, filters: dict[str, list[str]], in_use: bool) -> bool:
    """Whether `docker volume ls --filter` shows the volume: name a regexp, driver exact."""
    if "name" in filters and not any(search(v, record.name) for v in filters["name"]):
        return False
    if "driver" in filters and record.driver not in filters["driver"]:
        return False
    if "dangling" in filters and boolean("dangling", filters["dangling"]) == in_use:
        return False
    return labels_match(record.labels, filters.get("label", []))


def prunable(record: VolumeRecord, filters: dict[str, list[str]]) -> bool:
    """Whether an unused volume goes with `docker volume prune` (anonymous ones only, unless all=true)."""
    if not record.anonymous and not ("all" in filters and boolean("all", filters["all"])):
        return False
    return prune.labels_hold(record.labels, filters)


def volume_json(record: VolumeRecord, mountpoint: str) -> dict:
    """Docker's Volume object."""
    return {
        "CreatedAt": record.created,
        "Driver": record.driver,
        "Labels": record.labels or None,
        "Mountpoint": mountpoint,
        "Name": record.name,
        "Options": record.options or None,
        "Scope": "local",
    }
