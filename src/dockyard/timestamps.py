"""Times as Docker writes them: Go's RFC3339Nano in UTC (`2024-01-02T03:04:05.123456789Z`).

Docker marshals every time.Time this way (Created, State.StartedAt/FinishedAt, log lines,
SystemTime, image `created`, network Created): nanosecond digits with trailing zeros trimmed,
and no fraction at all on a whole second.
"""

from __future__ import annotations

import calendar
import re
import time

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time.Time: "never"
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))")


def rfc3339_nano(ns: int) -> str:
    """Nanoseconds since the epoch as Go's RFC3339Nano in UTC."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


def now_rfc3339() -> str:
    """The current time as Go's RFC3339Nano in UTC."""
    return rfc3339_nano(time.time_ns())


def parse_rfc3339_nano(value: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time (any offset, up to 9 fraction digits).

    "" and Go's zero time give 0, as Docker shows "never".

    Raises:
        ValueError: `value` is not an RFC 3339 time.
    """
    if not value or value.startswith(ZERO_TIME[:19]):
        return 0
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    day, clock, fraction, _zulu, sign, hours, minutes = match.groups()
    seconds = calendar.timegm(time.strptime(f"{day}T{clock}", "%Y-%m-%dT%H:%M:%S"))
    if sign:
        offset = int(hours) * 3600 + int(minutes) * 60
        seconds -= offset if sign == "+" else -offset
    return seconds * 1_000_000_000 + int(((fraction or "") + "000000000")[:9])
