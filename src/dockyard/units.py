"""Human units as docker prints them (go-units' HumanSize, HumanDuration, RAMInBytes). Pure."""

from __future__ import annotations

import re

from dockyard.errors import InvalidArgument

_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
_BINARY = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_RAM = re.compile(r"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")


def human_size(size: float, precision: int = 4) -> str:
    """Decimal size with `precision` significant digits: 4260000 -> '4.26MB' at precision 3."""
    unit = 0
    while size >= 1000 and unit < len(_DECIMAL) - 1:
        size /= 1000
        unit += 1
    return f"{size:.{precision}g}{_DECIMAL[unit]}"


def binary_size(size: float) -> str:
    """Binary size as docker's BytesSize: 1572864 -> '1.5MiB'."""
    unit = 0
    while size >= 1024 and unit < len(_BINARY_UNITS) - 1:
        size /= 1024
        unit += 1
    return f"{size:.4g}{_BINARY_UNITS[unit]}"


def ram_in_bytes(text: str) -> int:
    """Parse a memory size ('512m', '1g', '1024') into bytes with binary units."""
    match = _RAM.match(text.strip())
    if not match:
        raise InvalidArgument(f"invalid size: '{text}'")
    number, suffix = match.groups()
    return int(float(number) * _BINARY[(suffix or "b").lower()])


def human_duration(seconds: float) -> str:
    """Round a duration the way docker does: 'Less than a second', 'About a minute', '3 days'."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = secs // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600 / 24 / 365)} years"


def ellipsis(text: str, width: int) -> str:
    """Shorten to `width` characters, the last one an ellipsis, as docker's formatter does."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return text[: width - 1] + "…"


def truncate_id(ident: str) -> str:
    """Drop the algorithm prefix and keep 12 hex characters."""
    return ident.split(":", 1)[-1][:12]


def go_quote(text: str) -> str:
    """Quote a string like Go's strconv.Quote for printable text."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{escaped}"'


_DURATION = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")  # micro: the sign or the Greek letter
_DURATION_NS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "μs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def go_duration_ns(text: str) -> int:
    """Go's time.ParseDuration ('1h30m', '10s', '.5s', '-5m', '0') in nanoseconds.

    Raises:
        InvalidArgument: `time: invalid duration "text"`.
    """
    body = text[1:] if text[:1] in ("+", "-") else text
    if body == "0":
        return 0
    pos, total = 0, 0.0
    while pos < len(body) and (match := _DURATION.match(body, pos)):
        total += float(match.group(1)) * _DURATION_NS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise InvalidArgument(f'time: invalid duration "{text}"')
    return -round(total) if text.startswith("-") else round(total)


def parse_go_duration(text: str) -> float:
    """Go's time.ParseDuration in seconds. Raises InvalidArgument."""
    return go_duration_ns(text) / 1e9
