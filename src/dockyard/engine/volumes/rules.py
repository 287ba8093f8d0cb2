"""Pure rules of the volume service: filters for ls and prune, Docker's JSON shape."""

from __future__ import annotations

from dockyard.engine.containers.rules import labels_match
from dockyard.errors import InvalidArgument
from dockyard.volumes.store import VolumeRecord

LIST_FILTERS = ("name", "label", "driver", "dangling")
PRUNE_FILTERS = ("label", "label!", "all")
_TRUE, _FALSE = ("true", "1"), ("false", "0")


def check_filters(filters: dict[str, list[str]], allowed: tuple[str, ...]) -> None:
    for key, values in filters.items():
        if key not in allowed:
            raise InvalidArgument(f"invalid filter '{key}'")
        if key in ("dangling", "all") and any(v.lower() not in _TRUE + _FALSE for v in values):
            raise InvalidArgument(f"invalid filter '{key}={values[0]}'")


def _truth(values: list[str]) -> bool:
    return any(v.lower() in _TRUE for v in values)


def listed(record: VolumeRecord, filters: dict[str, list[str]], in_use: bool) -> bool:
    """Whether `docker volume ls --filter` shows the volume."""
    if "name" in filters and not any(v in record.name for v in filters["name"]):
        return False
    if "driver" in filters and record.driver not in filters["driver"]:
        return False
    if "dangling" in filters and _truth(filters["dangling"]) == in_use:
        return False
    return labels_match(record.labels, filters.get("label", []))


def prunable(record: VolumeRecord, filters: dict[str, list[str]]) -> bool:
    """Whether an unused volume goes with `docker volume prune` (anonymous ones only, unless all=true)."""
    if not record.anonymous and not _truth(filters.get("all", [])):
        return False
    if not labels_match(record.labels, filters.get("label", [])):
        return False
    unwanted = filters.get("label!", [])
    return not any(labels_match(record.labels, [value]) for value in unwanted)


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
