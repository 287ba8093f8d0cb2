"""The routers, one module per resource, put together in one route table."""

from __future__ import annotations

from dockyard.api.backend import Backends
from dockyard.api.routers import archive, builds, containers, disabled, images, networks, system, volumes
from dockyard.api.routers import exec as exec_routes
from dockyard.api.routing import Route, Router


def build_router(backends: Backends) -> Router:
    """Register every route once, in dockerd's order (literal paths before patterns)."""
    table: list[Route] = [
        *(builds.routes(backends.builds) if backends.builds is not None else builds.routes_without_builder()),
        *system.routes(backends.system),
        *containers.routes(backends.containers),
        *exec_routes.routes(backends.execs),
        *images.routes(backends.images),
    ]
    if backends.networks is not None:
        table += networks.routes(backends.networks)
    else:
        table += networks.routes_without_networking()
    if backends.volumes is not None:
        table += volumes.routes(backends.volumes)
    if backends.archive is not None:
        table += archive.routes(backends.archive)
    table += disabled.routes()
    return Router(table)
