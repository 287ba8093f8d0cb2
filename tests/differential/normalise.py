"""Make two daemons' answers comparable: what is random or per-run becomes a placeholder.

IDs (64 and 12 hex digits), timestamps, process IDs, sizes, MAC addresses, addresses from
the daemons' automatic pools (172.16/12, 192.168/16: static addresses in the corpus are in
10/8 and stay compared) and each daemon's data root are replaced; everything else is kept.
Go's zero time and zero counters are kept, since "never" must still differ from "now".
"""

from __future__ import annotations

import json
import re

ZERO_TIME = "0001-01-01T00:00:00Z"
TIME_KEYS = {"Created", "time", "timeNano", "CreatedAt", "StartedAt", "FinishedAt", "LastTagTime", "Start", "End"}
SIZE_KEYS = {"Size", "SizeRw", "SizeRootFs", "VirtualSize", "SharedSize", "LayersSize", "SpaceReclaimed", "UsageData"}
PID_KEYS = {"Pid", "Pids"}
_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
_SHORT = re.compile(r"(?<![0-9a-zA-Z])[0-9a-f]{12}(?![0-9a-zA-Z])")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
_POOL_IP = re.compile(r"\b(172\.(1[6-9]|2\d|3[01])|192\.168)\.\d+\.\d+(/\d+)?\b")
_MAC = re.compile(r"\b02:42(:[0-9a-f]{2}){4}\b")
_AGO = re.compile(r"^(Up|Exited \(-?\d+\)|Restarting \(-?\d+\)) .*$")
_RANDOM_NAME = re.compile(r"^/?[a-z]+_[a-z]+$")


def normalise(value: object, roots: tuple[str, ...] = (), key: str = "") -> object:
    """Return `value` with the per-run parts replaced by placeholders."""
    if isinstance(value, dict):
        return _normalise_dict(value, roots)
    if isinstance(value, list):
        items = [normalise(v, roots, key) for v in value]
        if key == "Mounts":  # dockerd lists mounts in map order
            items.sort(key=lambda m: str(m.get("Destination")) if isinstance(m, dict) else str(m))
        return items
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return _number(value, key)
    if isinstance(value, str):
        return _text(value, roots, key)
    return value


def _normalise_dict(value: dict, roots: tuple[str, ...]) -> dict:
    """Keys too (network inspect keys Containers by container ID); entries whose keys become
    the same placeholder are ordered by their normalised contents, not by their IDs."""
    entries = [(_text(k, roots, ""), normalise(v, roots, k)) for k, v in value.items()]
    keys = [k for k, _ in entries]
    if len(set(keys)) == len(keys):
        return dict(entries)
    entries.sort(key=lambda e: (e[0], json.dumps(e[1], sort_keys=True, default=str)))
    seen: dict[str, int] = {}
    out = {}
    for k, v in entries:
        seen[k] = seen.get(k, 0) + 1
        out[f"{k}#{seen[k]}" if keys.count(k) > 1 else k] = v
    return out


def _number(value: float, key: str) -> object:
    if value == 0:
        return value
    if key in TIME_KEYS:
        return "<time>"
    if key in SIZE_KEYS:
        return "<size>"
    if key in PID_KEYS:
        return "<pid>"
    return value


def _text(value: str, roots: tuple[str, ...], key: str) -> str:
    for root in roots:
        value = value.replace(root, "<root>")
    if key in TIME_KEYS and value.isdigit():
        return "<time>"
    if value != ZERO_TIME:
        value = _TIME.sub("<time>", value)
    value = _ID.sub("<id>", value)
    value = _SHORT.sub("<short>", value)
    value = _POOL_IP.sub("<ip>", value)
    value = _MAC.sub("<mac>", value) if "02:42:ac:11:00:99" not in value else value
    if key == "Name" and _RANDOM_NAME.match(value):
        return "<random-name>"
    if key == "Status":  # ps's "Up 2 seconds", "Exited (5) 3 seconds ago": the duration is timing
        value = _AGO.sub(r"\1 <duration>", value)
    return value


def shape(value: object) -> object:
    """Only the structure: dict keys all the way down, lists by their first element."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "*" if value is not None else None
