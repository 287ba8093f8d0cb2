"""Container routes: each decodes the request, calls one ContainerBackend method, encodes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dockyard import detachkeys
from dockyard.api import query, schema
from dockyard.api.backend import AttachStream, ContainerBackend
from dockyard.api.errors import status_for
from dockyard.api.messages import (
    JSON,
    RAW_STREAM,
    TAR,
    HijackResponse,
    Request,
    Response,
    StreamResponse,
    json_response,
    no_content,
    stream_type,
)
from dockyard.api.routing import Route, bind
from dockyard.api.streams import json_line, json_lines, mux_frames, raw_frames
from dockyard.api.versions import adapt_create
from dockyard.errors import DockyardError, InvalidArgument, NotFound

WAIT_CONDITIONS = ("not-running", "next-exit", "removed")


def get_list(backend: ContainerBackend, req: Request) -> Response:
    limit = req.number("limit")
    return json_response(
        backend.list(
            all=req.flag("all"),
            limit=limit if limit and limit > 0 else None,
            size=req.flag("size"),
            filters=req.filters(query.CONTAINER_LIST),
        )
    )


def post_create(backend: ContainerBackend, req: Request) -> Response:
    content_type = req.headers.get("content-type", "").split(";")[0].strip()
    if content_type and content_type != JSON:  # moby's CheckForJSON
        raise InvalidArgument(f"Content-Type specified ({content_type}) must be 'application/json'")
    body = req.json()
    if body is None:
        raise InvalidArgument("Config cannot be empty in order to create a container")
    schema.check(body, "runconfig.ContainerConfigWrapper")
    host_config = body.pop("HostConfig", None) or {}
    request = adapt_create(body, host_config, body.pop("NetworkingConfig", None), req.api_version)
    created = backend.create(
        req.arg("name") or None,
        request.config,
        request.host_config,
        request.networking_config,
        readonly_recursive=request.readonly_recursive,
    )
    if request.warnings:
        created = {**created, "Warnings": [*(created.get("Warnings") or []), *request.warnings]}
    return json_response(created, 201)


def get_inspect(backend: ContainerBackend, req: Request) -> Response:
    return json_response(backend.inspect(req.params["name"], size=req.flag("size")))


def get_top(backend: ContainerBackend, req: Request) -> Response:
    return json_response(backend.top(req.params["name"], req.arg("ps_args") or None))


def get_logs(backend: ContainerBackend, req: Request) -> StreamResponse:
    stdout, stderr = req.flag("stdout"), req.flag("stderr")
    if not (stdout or stderr):
        raise InvalidArgument("Bad parameters: you must choose at least one stream")
    tty, chunks = backend.logs(
        req.params["name"],
        follow=req.flag("follow"),
        stdout=stdout,
        stderr=stderr,
        since=req.timestamp("since"),
        until=req.timestamp("until"),
        timestamps=req.flag("timestamps"),
        tail=req.arg("tail") or "all",
    )
    frames = raw_frames(chunks) if tty else mux_frames(chunks)
    return StreamResponse(frames, stream_type(tty, req.api_version), prime=False)


def get_changes(backend: ContainerBackend, req: Request) -> Response:
    return json_response(backend.changes(req.params["name"]) or None)  # none: null, as dockerd


def get_export(backend: ContainerBackend, req: Request) -> StreamResponse:
    return StreamResponse(backend.export(req.params["name"]), TAR)


def get_stats(backend: ContainerBackend, req: Request) -> Response | StreamResponse:
    stream = req.flag("stream", default=True)
    stats = iter(backend.stats(req.params["name"], stream))
    if not stream:
        return json_response(next(stats))
    return StreamResponse(json_lines(stats), JSON)


def _size(req: Request) -> tuple[int, int]:
    height, width = req.number("h"), req.number("w")
    if height is None or width is None:
        raise InvalidArgument("resize requires both h and w")
    return height, width


def post_resize(backend: ContainerBackend, req: Request) -> Response:
    backend.resize(req.params["name"], *_size(req))
    return Response(200)


def post_start(backend: ContainerBackend, req: Request) -> Response:
    if req.json():
        raise InvalidArgument(
            "starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24"
        )
    backend.start(req.params["name"])
    return no_content()


def post_stop(backend: ContainerBackend, req: Request) -> Response:
    backend.stop(req.params["name"], req.number("t"), req.arg("signal") or None)
    return no_content()


def post_restart(backend: ContainerBackend, req: Request) -> Response:
    backend.restart(req.params["name"], req.number("t"), req.arg("signal") or None)
    return no_content()


def post_kill(backend: ContainerBackend, req: Request) -> Response:
    name = req.params["name"]
    try:
        backend.kill(name, req.arg("signal") or None)
    except NotFound as exc:  # dockerd's wrapping, same status
        raise NotFound(f"Cannot kill container: {name}: {exc}") from None
    return no_content()


def post_rename(backend: ContainerBackend, req: Request) -> Response:
    new_name = req.arg("name")
    if not new_name:
        raise InvalidArgument("Neither old nor new names may be empty")
    backend.rename(req.params["name"], new_name)
    return no_content()


def post_pause(backend: ContainerBackend, req: Request) -> Response:
    backend.pause(req.params["name"])
    return no_content()


def post_unpause(backend: ContainerBackend, req: Request) -> Response:
    backend.unpause(req.params["name"])
    return no_content()


def post_attach(backend: ContainerBackend, req: Request) -> HijackResponse:
    spec = req.arg("detachKeys")
    try:
        keys = detachkeys.parse(spec)
    except InvalidArgument:
        raise InvalidArgument(f"Invalid detach keys ({spec}) provided") from None
    try:
        stream: AttachStream = backend.attach(
            req.params["name"],
            stdin=req.flag("stdin"),
            stdout=req.flag("stdout"),
            stderr=req.flag("stderr"),
            logs=req.flag("logs"),
            stream=req.flag("stream"),
        )
    except DockyardError as exc:  # dockerd answers an attach that fails as plain text on the raw stream
        return Response(status_for(exc), f"{exc}\r\n".encode(), RAW_STREAM)
    return HijackResponse.of(stream, keys)


def _wait_body(finish: Callable[[Callable[[], bool] | None], dict], req: Request) -> Iterator[bytes]:
    try:
        result = finish(req.client_gone)
    except Exception as exc:  # noqa: BLE001 - the 200 is sent; the body is the only channel left
        result = {"StatusCode": -1, "Error": {"Message": str(exc)}}
    yield json_line(result)


def post_wait(backend: ContainerBackend, req: Request) -> StreamResponse:
    """Send the headers at once (docker run waits for them before it starts the container); the
    wait is begun before them, so an exit right after the start is the next one."""
    condition = req.arg("condition") or "not-running"
    if condition not in WAIT_CONDITIONS:
        raise InvalidArgument(f"invalid condition: {condition!r}")
    finish = backend.begin_wait(req.params["name"], condition)  # a missing container is a 404
    return StreamResponse(_wait_body(finish, req), JSON, prime=False, single=True)


def delete_container(backend: ContainerBackend, req: Request) -> Response:
    if req.flag("link"):
        backend.remove_link(req.params["name"])
        return no_content()
    backend.remove(req.params["name"], force=req.flag("force"), volumes=req.flag("v"))
    return no_content()


def post_update(backend: ContainerBackend, req: Request) -> Response:
    """The body is checked against the spec's UpdateConfig (a 400 as dockerd's), then applied."""
    body = req.json() or {}
    schema.check(body, "container.UpdateConfig")
    return json_response(backend.update(req.params["name"], body))


def post_prune(backend: ContainerBackend, req: Request) -> Response:
    return json_response(backend.prune(req.filters(query.PRUNE)))


TABLE = [
    ("GET", "/containers/json", get_list),
    ("POST", "/containers/create", post_create),
    ("POST", "/containers/prune", post_prune),
    ("GET", "/containers/{name:.*}/json", get_inspect),
    ("GET", "/containers/{name:.*}/top", get_top),
    ("GET", "/containers/{name:.*}/logs", get_logs),
    ("GET", "/containers/{name:.*}/changes", get_changes),
    ("GET", "/containers/{name:.*}/export", get_export),
    ("GET", "/containers/{name:.*}/stats", get_stats),
    ("POST", "/containers/{name:.*}/resize", post_resize),
    ("POST", "/containers/{name:.*}/start", post_start),
    ("POST", "/containers/{name:.*}/stop", post_stop),
    ("POST", "/containers/{name:.*}/restart", post_restart),
    ("POST", "/containers/{name:.*}/kill", post_kill),
    ("POST", "/containers/{name:.*}/rename", post_rename),
    ("POST", "/containers/{name:.*}/pause", post_pause),
    ("POST", "/containers/{name:.*}/unpause", post_unpause),
    ("POST", "/containers/{name:.*}/attach", post_attach),
    ("POST", "/containers/{name:.*}/wait", post_wait),
    ("DELETE", "/containers/{name:.*}", delete_container),
    ("POST", "/containers/{name:.*}/update", post_update),
]


def routes(backend: ContainerBackend) -> list[Route]:
    """The container routes bound to `backend`."""
    return bind(backend, TABLE)
