"""Image routes: list, inspect, pull/import, push, tag, remove, prune, save/load, commit."""

from __future__ import annotations

from dockyard.api import query
from dockyard.api.backend import ImageBackend
from dockyard.api.messages import TAR, Request, Response, StreamResponse, json_response
from dockyard.api.routing import Route, at_least, bind, not_supported
from dockyard.api.streams import json_lines
from dockyard.errors import InvalidArgument, NotSupported


def with_virtual_size(image: dict, api_version: str) -> dict:
    """Before API 1.44 images also carried VirtualSize, always equal to Size."""
    if at_least(api_version, "1.44") or "Size" not in image:
        return image
    return {**image, "VirtualSize": image["Size"]}


def get_list(backend: ImageBackend, req: Request) -> Response:
    filters = req.filters(query.IMAGE_LIST)
    legacy_reference = req.arg("filter")
    if legacy_reference and not at_least(req.api_version, "1.41"):
        filters.setdefault("reference", []).append(legacy_reference)
    images = backend.list(all=req.flag("all"), filters=filters, digests=req.flag("digests"))
    return json_response([with_virtual_size(image, req.api_version) for image in images])


def post_create(backend: ImageBackend, req: Request) -> StreamResponse:
    """Pull (`fromImage`) or import (`fromSrc=-` with the tar as the body)."""
    from_image, from_src = req.arg("fromImage"), req.arg("fromSrc")
    tag, platform = req.arg("tag") or None, req.arg("platform") or None
    if from_image:
        messages = backend.pull(from_image, tag, platform, req.auth())
    elif from_src == "-":
        messages = backend.import_(
            req.body, req.arg("repo") or None, tag, req.args("changes"), req.arg("message") or None, platform
        )
    elif from_src:
        raise NotSupported("importing an image from a URL is not supported")
    else:
        raise InvalidArgument("either fromImage or fromSrc must be set")
    return StreamResponse(json_lines(messages))


def get_inspect(backend: ImageBackend, req: Request) -> Response:
    return json_response(with_virtual_size(backend.inspect(req.params["name"]), req.api_version))


def get_history(backend: ImageBackend, req: Request) -> Response:
    return json_response(backend.history(req.params["name"]))


def post_push(backend: ImageBackend, req: Request) -> StreamResponse:
    messages = backend.push(req.params["name"], req.arg("tag") or None, req.auth())
    return StreamResponse(json_lines(messages))


def post_tag(backend: ImageBackend, req: Request) -> Response:
    repo = req.arg("repo")
    if not repo:
        raise InvalidArgument("repository name must be set to tag an image")
    backend.tag(req.params["name"], repo, req.arg("tag") or None)
    return Response(201)


def delete_image(backend: ImageBackend, req: Request) -> Response:
    return json_response(backend.remove(req.params["name"], force=req.flag("force"), noprune=req.flag("noprune")))


def post_prune(backend: ImageBackend, req: Request) -> Response:
    return json_response(backend.prune(req.filters(query.IMAGE_PRUNE)))


def get_save_one(backend: ImageBackend, req: Request) -> StreamResponse:
    return StreamResponse(backend.save([req.params["name"]]), TAR)


def get_save(backend: ImageBackend, req: Request) -> StreamResponse:
    names = req.args("names")
    if not names:
        raise InvalidArgument("at least one image name is required (names=)")
    return StreamResponse(backend.save(names), TAR)


def post_load(backend: ImageBackend, req: Request) -> StreamResponse:
    return StreamResponse(json_lines(backend.load(req.body, quiet=req.flag("quiet"))))


def post_commit(backend: ImageBackend, req: Request) -> Response:
    container = req.arg("container")
    if not container:
        raise InvalidArgument("container must be set to commit")
    committed = backend.commit(
        container,
        req.arg("repo") or None,
        req.arg("tag") or None,
        req.arg("comment") or None,
        req.arg("author") or None,
        pause=req.flag("pause", default=True),
        changes=req.args("changes"),
        config=req.json(),
    )
    return json_response(committed, 201)


TABLE = [
    ("GET", "/images/json", get_list),
    ("POST", "/images/create", post_create),
    ("POST", "/images/load", post_load),
    ("POST", "/images/prune", post_prune),
    ("GET", "/images/get", get_save),
    ("POST", "/commit", post_commit),
    ("GET", "/images/search", not_supported("searching a registry is not supported yet")),
    ("GET", "/distribution/{name:.*}/json", not_supported("distribution inspect is not supported yet")),
    ("GET", "/images/{name:.*}/json", get_inspect),
    ("GET", "/images/{name:.*}/history", get_history),
    ("GET", "/images/{name:.*}/get", get_save_one),
    ("POST", "/images/{name:.*}/push", post_push),
    ("POST", "/images/{name:.*}/tag", post_tag),
    ("DELETE", "/images/{name:.*}", delete_image),
]


def routes(backend: ImageBackend) -> list[Route]:
    """The image routes bound to `backend`."""
    return bind(backend, TABLE)
