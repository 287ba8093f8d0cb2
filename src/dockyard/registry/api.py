"""The distribution API: one dispatcher (route, authorize, call, map errors) and the manifest-side handlers.

Each handler is parse -> one storage call -> response. Blob and upload handlers live in blobs_api.py.
"""

from __future__ import annotations

import hashlib
import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from dockyard.errors import DockyardError
from dockyard.oci.digest import Digest
from dockyard.registry import blobs_api, errcodes
from dockyard.registry.auth import Authorizer, Scope
from dockyard.registry.config import Config
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.http import ClientGone, FileSpan, Request, Response
from dockyard.registry.manifests import MAX_MANIFEST_SIZE, OCI_INDEX, parse_manifest
from dockyard.registry.names import check_name, check_tag, parse_digest, parse_reference
from dockyard.registry.proxy import Upstream
from dockyard.registry.routes import ACTIONS, next_link, paginate, route
from dockyard.registry.storage import Storage
from dockyard.registry.uploads import Uploads

API_HEADER = ("docker-distribution-api-version", "registry/2.0")
PAGE_NOT_FOUND = errcodes.ErrorCode("NOT_FOUND", 404, "page not found")


@dataclass(slots=True)
class App:
    """What every handler needs: storage, uploads, the authorizer, the config, the optional upstream."""

    storage: Storage
    uploads: Uploads
    authorizer: Authorizer
    config: Config
    upstream: Upstream | None = None


def json_response(
    status: int, doc: object, headers: list[tuple[str, str]] | None = None, content_type: str = "application/json"
) -> Response:
    return Response(status, [("content-type", content_type), *(headers or [])], json.dumps(doc).encode())


def base(app: App, req: Request, params: dict) -> Response:
    return json_response(200, {})


def catalog(app: App, req: Request, params: dict) -> Response:
    n, last = req.query.get("n"), req.query.get("last")
    page, more = paginate(app.authorizer.visible(req.user, app.storage.repositories()), n, last)
    links = [("link", next_link(req.path, n or "", page[-1]))] if more else []
    return json_response(200, {"repositories": page}, links)


def tags_list(app: App, req: Request, params: dict) -> Response:
    name = params["name"]
    n, last = req.query.get("n"), req.query.get("last")
    page, more = paginate(app.storage.tags(name), n, last)
    links = [("link", next_link(req.path, n or "", page[-1]))] if more else []
    return json_response(200, {"name": name, "tags": page}, links)


def get_manifest(app: App, req: Request, params: dict) -> Response:
    name, reference = params["name"], parse_reference(params["reference"])
    if app.upstream is not None:
        _refresh_from_upstream(app, name, reference)
    stored = app.storage.get_manifest(name, reference)
    headers = [
        ("content-type", stored.media_type),
        ("docker-content-digest", stored.digest),
        ("etag", f'"{stored.digest}"'),
    ]
    return Response(200, headers, FileSpan(str(stored.path), 0, stored.size))


def _refresh_from_upstream(app: App, name: str, reference: Digest | str) -> None:
    """Pull-through: fetch a missing manifest, or re-check a tag older than the TTL (keeping ours if upstream fails)."""
    try:
        app.storage.get_manifest(name, reference)
        stale = not isinstance(reference, Digest) and app.storage.tag_age(name, reference) > app.config.proxy_tag_ttl
    except RegistryError:
        app.upstream.cache_manifest(app.storage, name, reference)
        return
    if stale:
        try:
            app.upstream.cache_manifest(app.storage, name, reference)
        except RegistryError:
            pass  # upstream unreachable or tag gone upstream: keep serving the cached copy


def put_manifest(app: App, req: Request, params: dict) -> Response:
    name, reference = params["name"], params["reference"]
    data = req.body.read(MAX_MANIFEST_SIZE)
    if data is None:
        raise RegistryError(errcodes.TOO_LARGE, {"limit": MAX_MANIFEST_SIZE}, "manifest too large")
    manifest = parse_manifest(data, req.header("content-type"))
    digest = Digest("sha256:" + hashlib.sha256(data).hexdigest())
    tag = None
    if ":" in reference:
        if parse_digest(reference) != digest:
            raise RegistryError(errcodes.DIGEST_INVALID, {"digest": reference})
    else:
        tag = check_tag(reference)
    app.storage.put_manifest(name, data, manifest, digest, tag)
    headers = [("location", f"/v2/{name}/manifests/{digest}"), ("docker-content-digest", digest)]
    if manifest.subject is not None:
        headers.append(("oci-subject", manifest.subject.digest))
    return Response(201, headers)


def delete_manifest(app: App, req: Request, params: dict) -> Response:
    name, reference = params["name"], parse_reference(params["reference"])
    if isinstance(reference, Digest):
        app.storage.delete_manifest(name, reference)
    else:
        app.storage.delete_tag(name, reference)
    return Response(202)


def referrers(app: App, req: Request, params: dict) -> Response:
    subject = parse_digest(params["digest"])
    artifact_type = req.query.get("artifactType") or None
    found = app.storage.referrers(params["name"], subject, artifact_type)
    doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [d.to_json() for d in found]}
    headers = [("oci-filters-applied", "artifactType")] if artifact_type else []
    return json_response(200, doc, headers, OCI_INDEX)


def _grant(app: App, user: str | None, pairs: list[tuple[str, str]]) -> Response:
    if user is None and not app.authorizer.anonymous:
        raise RegistryError(errcodes.UNAUTHORIZED, None, None, [("www-authenticate", 'Basic realm="token"')])
    scopes = []
    for key, value in pairs:
        if key == "scope":
            try:
                scopes.extend(Scope.parse(s) for s in value.split(" ") if s)
            except DockyardError:
                raise RegistryError(errcodes.UNSUPPORTED, {"scope": value[:200]}, "invalid scope") from None
    issued = app.authorizer.issue(user, scopes)
    return json_response(200, {"token": issued, "access_token": issued, "expires_in": app.config.token_ttl})


def token(app: App, req: Request, params: dict) -> Response:
    """`GET /token?service=..&scope=repository:name:pull,push`, with basic auth for a signed-in user."""
    user = app.authorizer.basic_user(req.header("authorization"))
    return _grant(app, user, parse_qsl(req.query_string, keep_blank_values=True))


def oauth_token(app: App, req: Request, params: dict) -> Response:
    """`POST /token` with an OAuth2 password-grant form (what containerd sends first)."""
    body = req.body.read(64 * 1024)
    if body is None:
        raise RegistryError(errcodes.TOO_LARGE)
    form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    fields = dict(form)
    if fields.get("grant_type") != "password":
        raise RegistryError(errcodes.UNSUPPORTED, {"grant_type": fields.get("grant_type", "")[:50]})
    user = fields.get("username") or None
    if user is not None and not app.authorizer.check_password(user, fields.get("password", "")):
        raise RegistryError(errcodes.UNAUTHORIZED, None, "authentication required")
    return _grant(app, user, form)


Endpoint = Callable[[App, Request, dict], Response]
HANDLERS: dict[tuple[str, str], Endpoint] = {
    ("base", "GET"): base,
    ("base", "HEAD"): base,
    ("catalog", "GET"): catalog,
    ("tags", "GET"): tags_list,
    ("manifest", "GET"): get_manifest,
    ("manifest", "HEAD"): get_manifest,
    ("manifest", "PUT"): put_manifest,
    ("manifest", "DELETE"): delete_manifest,
    ("referrers", "GET"): referrers,
    ("token", "GET"): token,
    ("token", "POST"): oauth_token,
    ("blob", "GET"): blobs_api.get_blob,
    ("blob", "HEAD"): blobs_api.get_blob,
    ("blob", "DELETE"): blobs_api.delete_blob,
    ("upload", "POST"): blobs_api.start_upload,
    ("upload", "PATCH"): blobs_api.patch_upload,
    ("upload", "PUT"): blobs_api.finish_upload,
    ("upload", "GET"): blobs_api.upload_status,
    ("upload", "DELETE"): blobs_api.cancel_upload,
}


def _scope(kind: str, params: dict, method: str) -> Scope | None:
    if kind == "catalog":
        return Scope("registry", "catalog", ("*",))
    if "name" not in params:
        return None
    return Scope("repository", check_name(params["name"]), (ACTIONS[method],))


def _dispatch(app: App, req: Request) -> Response:
    found = route(req.path)
    if found is None:
        raise RegistryError(PAGE_NOT_FOUND)
    handler = HANDLERS.get((found.kind, req.method))
    if handler is None:
        raise RegistryError(errcodes.UNSUPPORTED)
    if found.kind != "token":
        realm = f"{req.scheme}://{req.header('host', 'localhost')}/token"
        req.user = app.authorizer.authorize(
            req.header("authorization"), _scope(found.kind, found.params, req.method), realm
        )
        if app.upstream is not None and req.method not in ("GET", "HEAD"):
            raise RegistryError(errcodes.UNSUPPORTED, None, "a pull-through cache is read-only")
    return handler(app, req, found.params)


def handle(app: App, req: Request) -> Response:
    """Answer one request; spec errors become `{"errors": [...]}` with their status."""
    try:
        response = _dispatch(app, req)
    except RegistryError as exc:
        response = Response(exc.status, [("content-type", "application/json"), *exc.headers], exc.body())
    except DockyardError as exc:
        error = RegistryError(errcodes.ErrorCode("UNKNOWN", 400, str(exc)))
        response = Response(400, [("content-type", "application/json")], error.body())
    except ClientGone:
        raise
    except Exception as exc:  # the boundary: a bug or a storage failure must not kill the connection thread
        traceback.print_exc(file=sys.stderr)
        reason = f"storage error: {exc.strerror}" if isinstance(exc, OSError) else "internal error"
        error = RegistryError(errcodes.ErrorCode("UNKNOWN", 500, reason))
        response = Response(500, [("content-type", "application/json")], error.body())
    response.headers.append(API_HEADER)
    return response
