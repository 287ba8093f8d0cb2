"""Docker's prune filters, as pure functions: `until` (a time or a duration ago) and `label` / `label!`.

    until=24h                   created more than 24 hours before now
    until=1700000000[.5]        created before that Unix time
    until=2024-01-02T03:04:05Z  created before that RFC 3339 time (without zone: UTC; a bare date: local)
    label=k, label=k=v          has the label (with that value); every one must hold
    label!=k, label!=k=v        lacks the label (with that value); with several, lacks one of them

The services (containers, images, networks) call `prune_match` with what they know of each
candidate; moby's `daemon/prune.go` and `api/types/time.GetTimestamp` are the model.
"""

from __future__ import annotations

from dockyard.timestamps import api_timestamp


def timestamp(value: str, now: float) -> float:
    """Docker's time filter value as seconds since the epoch (timestamps.api_timestamp). Raises InvalidArgument."""
    return float(api_timestamp(value, now))


def cutoff(filters: dict[str, list[str]], now: float) -> float | None:
    """The earliest `until` time of the filters, or None without one."""
    values = filters.get("until") or []
    return min((timestamp(v, now) for v in values), default=None)


def labels_hold(labels: dict[str, str], filters: dict[str, list[str]]) -> bool:
    """Every `label` filter holds, and not every `label!` one (moby's matchLabels: a candidate
    is kept only when it carries all the `label!` labels)."""
    unwanted = filters.get("label!", [])
    return all(_has(labels, v) for v in filters.get("label", [])) and not (
        unwanted and all(_has(labels, v) for v in unwanted)
    )


def _has(labels: dict[str, str], wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    return key in labels and (not sep or labels[key] == value)


def prune_match(labels: dict[str, str], created: float, filters: dict[str, list[str]], now: float) -> bool:
    """Whether a candidate may be pruned under `filters`: labels hold and it is older than `until`."""
    limit = cutoff(filters, now)
    return labels_hold(labels, filters) and (limit is None or created < limit)
