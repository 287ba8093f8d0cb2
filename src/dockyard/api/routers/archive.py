"""`docker cp`'s routes: HEAD/GET/PUT /containers/{id}/archive, with X-Docker-Container-Path-Stat."""

from __future__ import annotations

import base64
import json

from dockyard.api.backend import ArchiveBackend
from dockyard.api.messages import TAR, Request, Response, StreamResponse
from dockyard.api.routing import Route, bind
from dockyard.errors import InvalidArgument

STAT_HEADER = "X-Docker-Container-Path-Stat"


def _path(req: Request) -> str:
    path = req.arg("path")
    if not path:
        raise InvalidArgument("path is required")  # dockerd's words for a missing path
    return path


def _stat_header(stat: dict) -> tuple[str, str]:
    return STAT_HEADER, base64.b64encode(json.dumps(stat).encode()).decode()


def head_archive(backend: ArchiveBackend, req: Request) -> Response:
    return Response(200, headers=(_stat_header(backend.stat(req.params["name"], _path(req))),))


def get_archive(backend: ArchiveBackend, req: Request) -> StreamResponse:
    stat, chunks = backend.get(req.params["name"], _path(req))
    return StreamResponse(chunks, TAR, headers=(_stat_header(stat),))


def put_archive(backend: ArchiveBackend, req: Request) -> Response:
    backend.put(
        req.params["name"],
        _path(req),
        req.body,
        no_overwrite_dir_non_dir=req.flag("noOverwriteDirNonDir"),
        copy_uid_gid=req.flag("copyUIDGID"),
    )
    return Response(200)


TABLE = [
    ("HEAD", "/containers/{name:.*}/archive", head_archive),
    ("GET", "/containers/{name:.*}/archive", get_archive),
    ("PUT", "/containers/{name:.*}/archive", put_archive),
]


def routes(backend: ArchiveBackend) -> list[Route]:
    """The archive routes bound to `backend`."""
    return bind(backend, TABLE)
