"""The value grammar every endpoint's filters share, as moby's api/types/filters:
booleans (GetBoolOrDefault) and regular expressions searched in a value (Match)."""

from __future__ import annotations

import re

from dockyard.errors import InvalidArgument


def boolean(key: str, values: list[str], error: str | None = None) -> bool:
    """`true`/`1` or `false`/`0`, not both. Raises InvalidArgument (`Invalid filter 'k=[v]'` by default)."""
    true, false = bool({"true", "1"} & set(values)), bool({"false", "0"} & set(values))
    if true == false:
        raise InvalidArgument(error or f"Invalid filter '{key}=[{' '.join(values)}]'")
    return true


def search(pattern: str, value: str) -> bool:
    """Whether the regular expression occurs in `value`; one that does not compile matches nothing."""
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False
