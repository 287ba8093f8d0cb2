"""The route table and the version prefix, as pure functions over method and path.

Patterns follow gorilla/mux as dockerd registers them: `{id}` matches one path segment,
`{name:.*}` may span slashes (image names such as `localhost:5000/a/b:tag`), and routes are
tried in registration order, so literal routes (`/images/json`) come before patterns
(`/images/{name:.*}/json`). Every route also answers under `/v<version>/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from dockyard import API_VERSION, MIN_API_VERSION
from dockyard.errors import InvalidArgument, NotFound, NotSupported

_PARAM = re.compile(r"\{(\w+)(?::\.\*)?\}")
_VERSION_PREFIX = re.compile(r"/v([0-9.]+)(/.*)")


@dataclass(frozen=True, slots=True)
class Route:
    """One `(method, pattern) -> handler` entry; the handler takes a Request."""

    method: str
    pattern: str
    handler: Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    params: dict[str, str]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Turn `/images/{name:.*}/json` into an anchored regex with named groups."""
    out, pos = [], 0
    for param in _PARAM.finditer(pattern):
        out.append(re.escape(pattern[pos : param.start()]))
        spans_slashes = param.group(0).endswith(":.*}")
        out.append(f"(?P<{param.group(1)}>{'.+' if spans_slashes else '[^/]+'})")
        pos = param.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out))


class Router:
    """Finds the first registered route matching a method and a path (no version prefix)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [(route, compile_pattern(route.pattern)) for route in routes]

    def match(self, method: str, path: str) -> Match:
        """Return the matching route and its path params.

        Raises NotFound("page not found") when nothing matches, as dockerd does.
        """
        for route, regex in self._routes:
            if route.method != method:
                continue
            found = regex.fullmatch(path)
            if found:
                return Match(route, found.groupdict())
        raise NotFound("page not found")


def split_version(path: str) -> tuple[str | None, str]:
    """Split `/v1.44/containers/json` into ("1.44", "/containers/json"); bare paths give None."""
    found = _VERSION_PREFIX.fullmatch(path)
    if found is None:
        return None, path
    return found.group(1), found.group(2)


def version_key(version: str) -> tuple[int, ...]:
    """Order versions as moby's `versions.compare` does: numeric parts, missing parts are 0."""
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def negotiate(requested: str | None) -> str:
    """Return the API version a request is served at.

    Raises InvalidArgument with dockerd's wording for versions outside [MIN, MAX].
    """
    if requested is None:
        return API_VERSION
    if version_key(requested) < version_key(MIN_API_VERSION):
        raise InvalidArgument(
            f"client version {requested} is too old. Minimum supported API version is "
            f"{MIN_API_VERSION}, please upgrade your client to a newer version"
        )
    if version_key(requested) > version_key(API_VERSION):
        raise InvalidArgument(f"client version {requested} is too new. Maximum supported API version is {API_VERSION}")
    return requested


def at_least(version: str, minimum: str) -> bool:
    """True when `version` >= `minimum` (for version-dependent behaviour in handlers)."""
    return version_key(version) >= version_key(minimum)


def bind(backend: object, table: Iterable[tuple[str, str, Callable[..., Any]]]) -> list[Route]:
    """Make routes from `(method, pattern, handler(backend, req))` rows, bound to `backend`."""
    return [Route(method, pattern, partial(handler, backend)) for method, pattern, handler in table]


def not_supported(message: str) -> Callable[..., Any]:
    """A handler for a known Docker endpoint dockyard does not serve: 501 with `message`."""

    def handler(backend: object, req: object) -> Any:
        raise NotSupported(message)

    return handler
