"""Network routes (`docker network ...`, compose): each calls one NetworkBackend method."""

from __future__ import annotations

from dockyard.api import query, schema
from dockyard.api.backend import NetworkBackend
from dockyard.api.messages import Request, Response, json_response, no_content
from dockyard.api.routing import Route, bind
from dockyard.errors import InvalidArgument


def get_list(backend: NetworkBackend, req: Request) -> Response:
    return json_response(backend.list(req.filters(query.NETWORK_LIST)))


def get_inspect(backend: NetworkBackend, req: Request) -> Response:
    return json_response(backend.inspect(req.params["id"], verbose=req.flag("verbose"), scope=req.arg("scope") or None))


def post_create(backend: NetworkBackend, req: Request) -> Response:
    config = req.json()
    schema.check(config or {}, "types.NetworkCreateRequest")
    if not config or not config.get("Name"):
        raise InvalidArgument("network name must be set")
    return json_response(backend.create(config), 201)


def post_connect(backend: NetworkBackend, req: Request) -> Response:
    body = req.json() or {}
    schema.check(body, "types.NetworkConnect")
    if not body.get("Container"):
        raise InvalidArgument("container must be set to connect to a network")
    backend.connect(req.params["id"], body["Container"], body.get("EndpointConfig"))
    return Response(200)


def post_disconnect(backend: NetworkBackend, req: Request) -> Response:
    body = req.json() or {}
    schema.check(body, "types.NetworkDisconnect")
    if not body.get("Container"):
        raise InvalidArgument("container must be set to disconnect from a network")
    backend.disconnect(req.params["id"], body["Container"], force=bool(body.get("Force")))
    return Response(200)


def delete_network(backend: NetworkBackend, req: Request) -> Response:
    backend.remove(req.params["id"])
    return no_content()


def post_prune(backend: NetworkBackend, req: Request) -> Response:
    return json_response(backend.prune(req.filters(query.PRUNE)))


TABLE = [
    ("GET", "/networks", get_list),
    ("GET", "/networks/", get_list),
    ("POST", "/networks/create", post_create),
    ("POST", "/networks/prune", post_prune),
    ("GET", "/networks/{id:.*}", get_inspect),
    ("POST", "/networks/{id:.*}/connect", post_connect),
    ("POST", "/networks/{id:.*}/disconnect", post_disconnect),
    ("DELETE", "/networks/{id:.*}", delete_network),
]


def routes(backend: NetworkBackend) -> list[Route]:
    """The network routes bound to `backend`."""
    return bind(backend, TABLE)
