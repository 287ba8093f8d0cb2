"""Exec routes: create an exec, start it (hijacking the connection unless detached), inspect."""

from __future__ import annotations

from dockyard.api import schema
from dockyard.api.backend import ExecBackend
from dockyard.api.hijack import TextStream
from dockyard.api.messages import HijackResponse, Request, Response, json_response
from dockyard.api.routing import Route, bind
from dockyard.errors import DockyardError, InvalidArgument, NotFound


def post_create(backend: ExecBackend, req: Request) -> Response:
    config = req.json()
    schema.check(config or {}, "types.ExecConfig")
    if not config or not config.get("Cmd"):
        raise InvalidArgument("No exec command specified")
    return json_response(backend.exec_create(req.params["name"], config), 201)


def post_start(backend: ExecBackend, req: Request) -> Response | HijackResponse:
    options = req.json() or {}
    schema.check(options, "types.ExecStartCheck")
    detach, tty = bool(options.get("Detach")), bool(options.get("Tty"))
    exec_id = req.params["id"]
    try:
        deferred = backend.exec_start(exec_id, detach=detach, tty=tty)
    except NotFound:
        raise
    except DockyardError as exc:  # as dockerd: after the hijack, a line of the exec's stdout
        if detach:
            raise
        tty = bool(backend.exec_inspect(exec_id)["ProcessConfig"]["tty"])
        return HijackResponse.of(TextStream(f"{exc}\r\n".encode(), tty))
    if deferred is None:
        return Response(200)
    return HijackResponse(deferred.tty, deferred.open, deferred.detach_keys)


def post_resize(backend: ExecBackend, req: Request) -> Response:
    height, width = req.number("h"), req.number("w")
    if height is None or width is None:
        raise InvalidArgument("resize requires both h and w")
    backend.exec_resize(req.params["id"], height, width)
    return Response(200)


def get_inspect(backend: ExecBackend, req: Request) -> Response:
    return json_response(backend.exec_inspect(req.params["id"]))


TABLE = [
    ("POST", "/containers/{name:.*}/exec", post_create),
    ("POST", "/exec/{id:.*}/start", post_start),
    ("POST", "/exec/{id:.*}/resize", post_resize),
    ("GET", "/exec/{id:.*}/json", get_inspect),
]


def routes(backend: ExecBackend) -> list[Route]:
    """The exec routes bound to `backend`."""
    return bind(backend, TABLE)
