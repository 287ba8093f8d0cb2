"""System routes: ping, version, info, events, disk usage, registry login."""

from __future__ import annotations

from dockyard.api.backend import SystemBackend
from dockyard.api.messages import JSON, Request, Response, StreamResponse, json_response
from dockyard.api.routers.images import with_virtual_size
from dockyard.api.routing import Route, bind
from dockyard.api.streams import json_lines
from dockyard.errors import InvalidArgument

BUILDER_VERSION = "1"  # the classic builder; "2" would send the CLI to BuildKit's /session
PING_HEADERS = (
    ("Cache-Control", "no-cache, no-store, must-revalidate"),
    ("Pragma", "no-cache"),
    ("Builder-Version", BUILDER_VERSION),
    ("Swarm", "inactive"),
)
TEXT = "text/plain; charset=utf-8"


def ping(backend: SystemBackend, req: Request) -> Response:
    """`OK`, or no body for HEAD; the CLI reads the version headers to negotiate."""
    body = b"" if req.method == "HEAD" else b"OK"
    return Response(200, body, TEXT, PING_HEADERS)


def get_version(backend: SystemBackend, req: Request) -> Response:
    return json_response(backend.version())


def get_info(backend: SystemBackend, req: Request) -> Response:
    return json_response(backend.info())


def get_events(backend: SystemBackend, req: Request) -> StreamResponse:
    since, until = req.timestamp("since"), req.timestamp("until")
    if since is not None and until is not None and until < since:
        raise InvalidArgument(f"`since` time ({req.arg('since')}) cannot be after `until` time ({req.arg('until')})")
    events = backend.events(since, until, req.filters())
    return StreamResponse(json_lines(events), JSON, prime=False)


def get_df(backend: SystemBackend, req: Request) -> Response:
    usage = backend.df()
    images = [with_virtual_size(image, req.api_version) for image in usage.get("Images") or []]
    return json_response({**usage, "Images": images} if "Images" in usage else usage)


def post_auth(backend: SystemBackend, req: Request) -> Response:
    config = req.json()
    if config is None:
        raise InvalidArgument("auth config is required in the request body")
    return json_response(backend.auth(config))


TABLE = [
    ("GET", "/_ping", ping),
    ("HEAD", "/_ping", ping),
    ("GET", "/version", get_version),
    ("GET", "/info", get_info),
    ("GET", "/events", get_events),
    ("GET", "/system/df", get_df),
    ("POST", "/auth", post_auth),
]


def routes(backend: SystemBackend) -> list[Route]:
    """The system routes bound to `backend`."""
    return bind(backend, TABLE)
