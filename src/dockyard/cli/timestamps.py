"""`--since`/`--until` values as docker accepts them: RFC 3339, unix seconds, or a Go duration ago."""

from __future__ import annotations

import time
from datetime import UTC

from dockyard.errors import InvalidArgument
from dockyard.units import parse_go_duration


def api_timestamp(value: str, now: float | None = None) -> str:
    """'10m' -> now-600 s; '2024-01-02T03:04:05Z' -> epoch seconds; '1700000000.5' unchanged."""
    now = time.time() if now is None else now
    try:
        float(value)
        return value
    except ValueError:
        pass
    try:
        return _seconds(now - parse_go_duration(value))
    except InvalidArgument:
        pass
    from datetime import datetime

    text = value.replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f'failed to parse value as time or duration: "{value}"') from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC) if "T" in text else moment.astimezone()
    return _seconds(moment.timestamp())


def _seconds(epoch: float) -> str:
    whole = int(epoch)
    nanos = int(round((epoch - whole) * 1e9))
    return f"{whole}.{nanos:09d}"
