"""Times as Docker writes and reads them.

Docker marshals every time.Time as Go's RFC3339Nano in UTC (`2024-01-02T03:04:05.123456789Z`:
Created, State.StartedAt/FinishedAt, log lines, SystemTime, image `created`, network Created),
nanosecond digits with trailing zeros trimmed and no fraction on a whole second; a volume's
CreatedAt is plain RFC3339 (whole seconds). `--since`, `--until` and the `until` filter of the
prunes and listings take a time, unix seconds or a Go duration ago (`api_timestamp`).
"""

from __future__ import annotations

import re
import time

from dockyard.errors import InvalidArgument

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time.Time: "never"
_RFC3339 = r"(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))"
_UNIX = r"-?\d+(?:\.\d+)?"  # docker's parseTimestamp: seconds[.nanoseconds]
_EPOCH_DAY = 719163  # date(1970, 1, 1).toordinal()


def rfc3339_nano(ns: int) -> str:
    """Nanoseconds since the epoch as Go's RFC3339Nano in UTC."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


def now_rfc3339() -> str:
    """The current time as Go's RFC3339Nano in UTC."""
    return rfc3339_nano(time.time_ns())


def now_rfc3339_seconds() -> str:
    """The current time as Go's RFC3339 in UTC: whole seconds, no fraction."""
    return rfc3339_nano(time.time_ns() // 1_000_000_000 * 1_000_000_000)


def parse_rfc3339_nano(value: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time (any offset, up to 9 fraction digits).

    "" and Go's zero time give 0, as Docker shows "never".

    Raises:
        ValueError: `value` is not an RFC 3339 time.
    """
    if not value or value.startswith(ZERO_TIME[:19]):
        return 0
    from datetime import date  # here, as re compiles the pattern on first use: the shim only formats

    match = re.fullmatch(_RFC3339, value)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    day, clock, fraction, _zulu, sign, hours, minutes = match.groups()
    hour, minute, second = int(clock[:2]), int(clock[3:5]), int(clock[6:])
    if hour > 23 or minute > 59 or second > 61:  # strptime's ranges (61: leap seconds)
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    days = date(int(day[:4]), int(day[5:7]), int(day[8:])).toordinal() - _EPOCH_DAY  # checks the date
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    if sign:
        offset = int(hours) * 3600 + int(minutes) * 60
        seconds -= offset if sign == "+" else -offset
    return seconds * 1_000_000_000 + int(((fraction or "") + "000000000")[:9])


def api_timestamp(value: str, now: float | None = None) -> str:
    """A `--since`/`--until`/`until=` value as the API takes it, "seconds.nanoseconds" (docker's GetTimestamp).

    '10m' -> now-600 s; '2024-01-02T03:04:05Z' -> epoch seconds; '1700000000.5' unchanged.
    A time without a zone is UTC; a bare date is in the local zone.

    Raises:
        InvalidArgument: neither a time, nor unix seconds, nor a Go duration.
    """
    from dockyard.units import parse_go_duration  # here: the shim imports this module

    now = time.time() if now is None else now
    if re.fullmatch(_UNIX, value):
        return value
    try:
        return _seconds(now - parse_go_duration(value))
    except InvalidArgument:
        pass
    from datetime import UTC, datetime

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
