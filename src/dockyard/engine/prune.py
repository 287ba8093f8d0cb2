"""Docker's prune filters, as pure functions: `until` (a time or a duration ago) and `label` / `label!`.

    until=24h                   created more than 24 hours before now
    until=1700000000[.5]        created before that Unix time
    until=2024-01-02T03:04:05Z  created before that RFC 3339 time (also a bare date, or without zone: UTC)
    label=k, label=k=v          has the label (with that value); every one must hold
    label!=k, label!=k=v        has not the label (with that value); every one must hold

The services (containers, images, networks) call `prune_match` with what they know of each
candidate; moby's `daemon/prune.go` and `api/types/time.GetTimestamp` are the model.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dockyard.errors import InvalidArgument

_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNIX = re.compile(r"-?[0-9]+(\.[0-9]{1,9})?")


def parse_duration(value: str) -> float | None:
    """A Go duration (`1h30m`, `-5m`, `250ms`) in seconds, or None when `value` is not one."""
    sign, body = (-1.0, value[1:]) if value.startswith("-") else (1.0, value.lstrip("+"))
    pos, total = 0, 0.0
    for found in _DURATION.finditer(body):
        if found.start() != pos:
            return None
        total += float(found.group(1)) * _UNIT[found.group(2)]
        pos = found.end()
    return sign * total if pos == len(body) and body else None


def timestamp(value: str, now: float) -> float:
    """Docker's time filter value as seconds since the epoch. Raises InvalidArgument."""
    duration = parse_duration(value)
    if duration is not None:
        return now - duration
    if _UNIX.fullmatch(value):
        return float(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f'failed to parse value as time or duration: "{value}"') from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def cutoff(filters: dict[str, list[str]], now: float) -> float | None:
    """The earliest `until` time of the filters, or None without one."""
    values = filters.get("until") or []
    return min((timestamp(v, now) for v in values), default=None)


def labels_hold(labels: dict, filters: dict[str, list[str]]) -> bool:
    """Every `label` filter holds and no `label!` filter matches."""
    return all(_has(labels, v) for v in filters.get("label", [])) and not any(
        _has(labels, v) for v in filters.get("label!", [])
    )


def _has(labels: dict, wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    return key in labels and (not sep or labels[key] == value)


def prune_match(labels: dict, created: float, filters: dict[str, list[str]], now: float) -> bool:
    """Whether a candidate may be pruned under `filters`: labels hold and it is older than `until`."""
    limit = cutoff(filters, now)
    return labels_hold(labels, filters) and (limit is None or created < limit)
