"""Pure parsers for what a request carries besides its path: query values, filters, auth, JSON.

Each parser reads the way dockerd's `httputils` does, so clients that rely on dockerd's
leniency (e.g. `?all=1`, `?all=True`, the legacy `{"k":{"v":true}}` filters) keep working.
Bad input raises InvalidArgument with a message saying what was wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, BinaryIO

from dockyard.errors import InvalidArgument

Query = Mapping[str, list[str]]
_FALSE = frozenset({"", "0", "no", "false", "none"})
MAX_JSON_BODY = 64 * 1024 * 1024


def text(query: Query, key: str, default: str | None = None) -> str | None:
    """Return the first value of `key`, or `default` when absent."""
    values = query.get(key)
    return values[0] if values else default


def boolean(query: Query, key: str, default: bool = False) -> bool:
    """Parse a boolean as dockerd's BoolValue: "", 0, no, false, none are false; the rest true."""
    value = text(query, key)
    if value is None:
        return default
    return value.strip().lower() not in _FALSE


def integer(query: Query, key: str, default: int | None = None) -> int | None:
    """Parse an integer value; an empty value counts as absent."""
    value = text(query, key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f"invalid value for {key}: {value!r} is not an integer") from None


def timestamp(query: Query, key: str) -> float | None:
    """Parse a `seconds[.nanoseconds]` Unix timestamp as the CLI sends for since/until."""
    value = text(query, key)
    if value is None or value == "":
        return None
    seconds, sep, fraction = value.partition(".")
    parts = [(seconds, seconds.removeprefix("-"))] + ([(fraction, fraction)] if sep else [])
    for part, digits in parts:  # each must be a whole number, or moby's words (timetypes)
        if not digits.isdigit():
            raise InvalidArgument(f'strconv.ParseInt: parsing "{part}": invalid syntax')
    return float(value)


# the filters each endpoint accepts, as dockerd's (daemon/*: acceptedFilters, pruneFilters)
CONTAINER_LIST = frozenset(
    "ancestor before since expose publish exited health id isolation is-task label name network status volume".split()
)
PRUNE = frozenset({"until", "label", "label!"})
IMAGE_LIST = frozenset({"before", "dangling", "label", "reference", "since", "until"})
IMAGE_PRUNE = PRUNE | {"dangling"}
NETWORK_LIST = frozenset({"dangling", "driver", "id", "label", "name", "scope", "type"})
VOLUME_LIST = frozenset({"dangling", "driver", "label", "name"})
VOLUME_PRUNE = frozenset({"label", "label!", "all"})


def filters(query: Query, accepted: frozenset[str] | None = None) -> dict[str, list[str]]:
    """Parse the `filters` JSON into {name: [values]}, accepting both of dockerd's shapes.

    With `accepted`, any other filter name is refused as dockerd does ("Invalid filter 'x'").
    """
    parsed = _parse_filters(text(query, "filters"))
    if accepted is not None:
        for name in parsed:
            if name not in accepted:
                raise InvalidArgument(f"Invalid filter '{name}'")
    return parsed


def _parse_filters(raw: str | None) -> dict[str, list[str]]:
    if raw is None or raw.strip() == "":
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise InvalidArgument(f"invalid filter: {raw!r} is not JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidArgument(f"invalid filter: {raw!r} is not a JSON object")
    return {str(name): _filter_values(name, values) for name, values in parsed.items()}


def _filter_values(name: str, values: object) -> list[str]:
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        return list(values)
    if isinstance(values, dict) and all(isinstance(v, bool) for v in values.values()):
        return list(values)  # dockerd keeps every key, whatever its boolean
    raise InvalidArgument(f"invalid filter: values of {name!r} must be a list of strings or a map of booleans")


def registry_auth(header: str | None) -> dict[str, Any] | None:
    """Decode the base64url JSON X-Registry-Auth header; None when absent or empty."""
    if header is None or header.strip() == "":
        return None
    data = header.strip()
    try:
        decoded = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        auth = json.loads(decoded)
    except (binascii.Error, ValueError):
        raise InvalidArgument("invalid X-Registry-Auth header: not base64url-encoded JSON") from None
    if not isinstance(auth, dict):
        raise InvalidArgument("invalid X-Registry-Auth header: not a JSON object")
    return auth or None


def json_body(body: BinaryIO) -> object | None:
    """Read and decode a JSON request body; None when the body is empty."""
    data = body.read(MAX_JSON_BODY + 1)
    if len(data) > MAX_JSON_BODY:
        raise InvalidArgument("request body is too large")
    if not data.strip():
        return None
    try:
        value: object = json.loads(data)
    except ValueError as exc:
        raise InvalidArgument(f"invalid JSON in request body: {exc}") from None
    except RecursionError:
        raise InvalidArgument("invalid JSON in request body: nested too deeply") from None
    return value
