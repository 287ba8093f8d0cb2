"""Blob and upload handlers: GET/HEAD (with Range) and DELETE of blobs; POST, PATCH, PUT, GET, DELETE of uploads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockyard.oci.digest import Digest
from dockyard.registry import errcodes
from dockyard.registry.auth import Scope
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.http import FileSpan, Request, Response, Stream
from dockyard.registry.names import check_name, parse_digest
from dockyard.registry.routes import parse_content_range, parse_range

if TYPE_CHECKING:
    from dockyard.registry.api import App


def _blob_headers(digest: str) -> list[tuple[str, str]]:
    return [
        ("content-type", "application/octet-stream"),
        ("docker-content-digest", digest),
        ("etag", f'"{digest}"'),
        ("accept-ranges", "bytes"),
        ("cache-control", "max-age=31536000"),
    ]


def _from_upstream(app: App, req: Request, name: str, digest: Digest) -> Response | None:
    """A pull-through miss: HEAD asks upstream, GET streams while filling the cache; None when a Range
    request must wait for the whole blob (it is then cached and served from disk)."""
    if req.method == "HEAD":
        size = app.upstream.blob_size(name, digest)
        return Response(200, _blob_headers(digest), Stream(size, iter(())))
    if req.header("range"):
        app.upstream.cache_blob(app.uploads, name, digest, req.client)
        return None
    return Response(200, _blob_headers(digest), app.upstream.stream_blob(app.uploads, name, digest, req.client))


def get_blob(app: App, req: Request, params: dict) -> Response:
    name, digest = params["name"], parse_digest(params["digest"])
    try:
        path, size = app.storage.repo_blob(name, digest)
    except RegistryError:
        if app.upstream is None:
            raise
        streamed = _from_upstream(app, req, name, digest)
        if streamed is not None:
            return streamed
        path, size = app.storage.repo_blob(name, digest)
    headers = _blob_headers(digest)
    span = parse_range(req.header("range"), size)
    if span is None:
        return Response(200, headers, FileSpan(str(path), 0, size))
    start, end = span
    headers.append(("content-range", f"bytes {start}-{end}/{size}"))
    return Response(206, headers, FileSpan(str(path), start, end - start + 1))


def delete_blob(app: App, req: Request, params: dict) -> Response:
    app.storage.delete_blob(params["name"], parse_digest(params["digest"]))
    return Response(202, [("docker-content-digest", params["digest"])])


def _upload_headers(name: str, upload_id: str, offset: int) -> list[tuple[str, str]]:
    return [
        ("location", f"/v2/{name}/blobs/uploads/{upload_id}"),
        ("docker-upload-uuid", upload_id),
        ("range", f"0-{max(offset - 1, 0)}"),
    ]


def _created(name: str, digest: str) -> Response:
    return Response(201, [("location", f"/v2/{name}/blobs/{digest}"), ("docker-content-digest", digest)])


def _check_length(app: App, req: Request, offset: int) -> None:
    """Refuse, before reading a byte, a body whose declared length would pass the upload limit."""
    declared = req.header("content-length")
    if declared and declared.isdigit() and offset + int(declared) > app.uploads.max_size:
        raise RegistryError(errcodes.TOO_LARGE, {"limit": app.uploads.max_size}, "upload exceeds the size limit")


def start_upload(app: App, req: Request, params: dict) -> Response:
    """POST: cross-repository mount, monolithic upload with `?digest=`, or a new upload session."""
    name = params["name"]
    if params["upload"]:  # POST opens uploads at .../blobs/uploads/ only, as distribution's router
        raise RegistryError(errcodes.UNSUPPORTED)
    mount, source = req.query.get("mount"), req.query.get("from")
    if mount:
        digest = parse_digest(mount)
        allowed = source is None or _may_pull(app, req, source)
        if allowed and app.storage.mount(name, digest, source):
            return _created(name, digest)
    upload_id = app.uploads.start(name, req.client)
    if "digest" in req.query:
        digest = parse_digest(req.query["digest"])
        try:
            _check_length(app, req, 0)
            app.uploads.finish(name, upload_id, digest, req.body)
        except BaseException:
            app.uploads.discard(upload_id)
            raise
        return _created(name, digest)
    return Response(202, _upload_headers(name, upload_id, 0))


def _may_pull(app: App, req: Request, source: str) -> bool:
    try:
        realm = f"{req.scheme}://{req.header('host', 'localhost')}/token"
        app.authorizer.authorize(req.header("authorization"), Scope("repository", check_name(source), ("pull",)), realm)
    except RegistryError:
        return False
    return True


def patch_upload(app: App, req: Request, params: dict) -> Response:
    """PATCH: append one chunk; `Content-Range` must start at the current offset (else 416)."""
    name, upload_id = params["name"], params["upload"]
    start = parse_content_range(req.header("content-range"))
    offset = app.uploads.offset(name, upload_id)
    _check_length(app, req, offset)
    offset = app.uploads.append(name, upload_id, req.body, start)
    return Response(202, _upload_headers(name, upload_id, offset))


def finish_upload(app: App, req: Request, params: dict) -> Response:
    """PUT `?digest=`: append the optional last chunk, verify, publish."""
    name, upload_id = params["name"], params["upload"]
    offset = app.uploads.offset(name, upload_id)
    digest = parse_digest(req.query.get("digest", ""))
    start = parse_content_range(req.header("content-range"))
    if start is not None and start != offset:
        raise RegistryError(errcodes.RANGE_INVALID, {"offset": offset})
    _check_length(app, req, offset)
    app.uploads.finish(name, upload_id, digest, req.body)
    return _created(name, digest)


def upload_status(app: App, req: Request, params: dict) -> Response:
    offset = app.uploads.offset(params["name"], params["upload"])
    return Response(204, _upload_headers(params["name"], params["upload"], offset))


def cancel_upload(app: App, req: Request, params: dict) -> Response:
    app.uploads.cancel(params["name"], params["upload"])
    return Response(204)
