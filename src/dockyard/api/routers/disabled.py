"""Swarm and plugin endpoints, answered as a dockerd with neither enabled answers them.

dockyard is a node engine (ARCHITECTURE.md: no home-made cluster) and loads no plugins, so
these routes hold no logic: tools that clean up after themselves (`POST /swarm/leave`) or
list plugins get dockerd's own answers for a node outside a swarm with no plugin installed,
and the calls that would enable either are refused with 501.
"""

from __future__ import annotations

from typing import Any

from dockyard.api.messages import Request, Response, json_response
from dockyard.api.routing import Route, bind, not_supported
from dockyard.errors import NotFound, Unavailable

NOT_A_MANAGER = (
    'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" '
    "to connect this node to swarm and try again."
)


def not_a_manager(backend: object, req: Request) -> Response:
    raise Unavailable(NOT_A_MANAGER)


def post_swarm_leave(backend: object, req: Request) -> Response:
    raise Unavailable("This node is not part of a swarm")


def no_plugins(backend: object, req: Request) -> Response:
    return json_response([])


def no_such_plugin(backend: object, req: Request) -> Response:
    raise NotFound(f'plugin "{req.params["name"]}" not found')


SWARM_ONLY = [
    ("GET", "/swarm"),
    ("GET", "/swarm/unlockkey"),
    ("POST", "/swarm/update"),
    ("POST", "/swarm/unlock"),
    *(
        (method, f"/{kind}{tail}")
        for kind in ("nodes", "services", "tasks", "secrets", "configs")
        for method, tail in (("GET", ""), ("GET", "/{id}"))
    ),
    *(("POST", f"/{kind}/create") for kind in ("services", "secrets", "configs")),
    *(("POST", f"/{kind}/{{id}}/update") for kind in ("nodes", "services", "secrets", "configs")),
    *(("DELETE", f"/{kind}/{{id}}") for kind in ("nodes", "services", "secrets", "configs")),
    ("GET", "/services/{id}/logs"),
    ("GET", "/tasks/{id}/logs"),
]

TABLE: list[tuple[str, str, Any]] = [
    ("POST", "/swarm/leave", post_swarm_leave),
    ("POST", "/swarm/init", not_supported("dockyard does not run swarm mode")),
    ("POST", "/swarm/join", not_supported("dockyard does not run swarm mode")),
    *((method, pattern, not_a_manager) for method, pattern in SWARM_ONLY),
    ("GET", "/plugins", no_plugins),
    ("GET", "/plugins/privileges", no_plugins),
    ("POST", "/plugins/pull", not_supported("dockyard does not support plugins")),
    ("POST", "/plugins/create", not_supported("dockyard does not support plugins")),
    ("GET", "/plugins/{name:.*}/json", no_such_plugin),
    ("POST", "/plugins/{name:.*}/enable", no_such_plugin),
    ("POST", "/plugins/{name:.*}/disable", no_such_plugin),
    ("POST", "/plugins/{name:.*}/push", no_such_plugin),
    ("POST", "/plugins/{name:.*}/set", no_such_plugin),
    ("POST", "/plugins/{name:.*}/upgrade", no_such_plugin),
    ("DELETE", "/plugins/{name:.*}", no_such_plugin),
]


def routes() -> list[Route]:
    """The swarm and plugin routes (they need no backend)."""
    return bind(None, TABLE)
