"""URL routing and the small pure parsers the handlers share: pagination, ranges, scopes per request."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError

_ROUTES = [
    ("base", re.compile(r"^/v2/?$")),
    ("catalog", re.compile(r"^/v2/_catalog$")),
    ("tags", re.compile(r"^/v2/(?P<name>.+)/tags/list$")),
    ("manifest", re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")),
    ("upload", re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<upload>[^/]*)$")),
    ("blob", re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)$")),
    ("referrers", re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<digest>[^/]+)$")),
    ("token", re.compile(r"^/token/?$")),
]
ACTIONS = {"GET": "pull", "HEAD": "pull", "POST": "push", "PUT": "push", "PATCH": "push", "DELETE": "delete"}


@dataclass(frozen=True, slots=True)
class Route:
    """Which endpoint a path names, and the parameters taken from it."""

    kind: str
    params: dict[str, str]


def route(path: str) -> Route | None:
    """Match a request path to an endpoint, or None for a path the registry does not serve."""
    for kind, pattern in _ROUTES:
        match = pattern.match(path)
        if match:
            return Route(kind, match.groupdict())
    return None


def paginate(items: list[str], n: str | None, last: str | None) -> tuple[list[str], bool]:
    """The page of sorted `items` after `last`, at most `n` long, and whether more follow."""
    if last:
        items = [item for item in items if item > last]
    if n is None or n == "":
        return items, False
    if not n.isdigit():
        raise RegistryError(
            errcodes.ErrorCode("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested"), {"n": n[:20]}
        )
    count = int(n)
    return items[:count], count > 0 and len(items) > count


def next_link(path: str, n: str, last: str) -> str:
    """The RFC 5988 `Link` header value for the next page."""
    return f'<{path}?n={n}&last={quote(last, safe="")}>; rel="next"'


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A `Range: bytes=a-b` header as an inclusive (start, end) within `size`; None for the whole blob.

    Raises:
        RegistryError: RANGE_INVALID (416) for a range that cannot be satisfied or parsed.
    """
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not match or match.group(1) == match.group(2) == "":
        raise _unsatisfiable(size)
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> RegistryError:
    return RegistryError(errcodes.RANGE_INVALID, {"size": size}, None, [("content-range", f"bytes */{size}")])


def parse_content_range(header: str | None) -> int | None:
    """The start offset of an upload chunk's `Content-Range: a-b` (also `bytes a-b/*`), None when absent."""
    if not header:
        return None
    match = re.fullmatch(r"\s*(?:bytes[ =])?(\d+)-(\d+)(?:/(?:\d+|\*))?\s*", header)
    if not match or int(match.group(1)) > int(match.group(2)) + 1:
        raise RegistryError(errcodes.RANGE_INVALID, {"content-range": header[:64]})
    return int(match.group(1))
