"""Volume routes (`docker volume ...`, compose): each calls one VolumeBackend method."""

from __future__ import annotations

from dockyard.api import query, schema
from dockyard.api.backend import VolumeBackend
from dockyard.api.messages import Request, Response, json_response, no_content
from dockyard.api.routing import Route, bind


def get_list(backend: VolumeBackend, req: Request) -> Response:
    return json_response(backend.list(req.filters(query.VOLUME_LIST)))


def post_create(backend: VolumeBackend, req: Request) -> Response:
    body = req.json() or {}
    schema.check(body, "volume.VolumeCreateBody")
    return json_response(backend.create(body), 201)


def get_inspect(backend: VolumeBackend, req: Request) -> Response:
    return json_response(backend.inspect(req.params["name"]))


def delete_volume(backend: VolumeBackend, req: Request) -> Response:
    backend.remove(req.params["name"], force=req.flag("force"))
    return no_content()


def post_prune(backend: VolumeBackend, req: Request) -> Response:
    return json_response(backend.prune(req.filters(query.VOLUME_PRUNE)))


TABLE = [
    ("GET", "/volumes", get_list),
    ("POST", "/volumes/create", post_create),
    ("POST", "/volumes/prune", post_prune),
    ("GET", "/volumes/{name:.*}", get_inspect),
    ("DELETE", "/volumes/{name:.*}", delete_volume),
]


def routes(backend: VolumeBackend) -> list[Route]:
    """The volume routes bound to `backend`."""
    return bind(backend, TABLE)
