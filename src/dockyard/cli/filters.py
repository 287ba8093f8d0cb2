"""`-f key=value` flags into the API's `filters` query parameter ({"key": {"value": true}})."""

from __future__ import annotations

from dockyard.cli.flags import UsageError


def parse_filters(values: list[str]) -> dict[str, dict[str, bool]] | None:
    """['status=running', 'label=a=b'] -> {'status': {'running': True}, 'label': {'a=b': True}}."""
    filters: dict[str, dict[str, bool]] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep:
            raise UsageError("bad format of filter (expected name=value)")
        filters.setdefault(key.strip().lower(), {})[val] = True
    return filters or None
