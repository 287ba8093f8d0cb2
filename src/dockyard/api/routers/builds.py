"""Build routes: POST /build (the classic builder's protocol) and POST /build/prune.

The body is the context tar; the query carries the options `docker build` and the SDKs
send. Options dockyard's builder does not have are refused by name, never dropped: a
resource limit, `cachefrom`, `squash`, `remote`, `outputs` or BuildKit (`version=2`).
"""

from __future__ import annotations

import base64
import binascii
import json

from dockyard.api.backend import BuildBackend
from dockyard.api.messages import Request, Response, StreamResponse, json_response
from dockyard.api.routing import Route, bind, not_supported
from dockyard.api.streams import json_lines
from dockyard.errors import InvalidArgument, NotSupported

_UNSUPPORTED_NUMBERS = ("memory", "memswap", "cpushares", "cpuperiod", "cpuquota")
_UNSUPPORTED_TEXT = ("cpusetcpus", "remote", "cgroupparent")
_UNSUPPORTED_LISTS = ("cachefrom", "ulimits", "outputs")


def json_query(req: Request, key: str, kind: type) -> object:
    """A query value holding JSON (buildargs, labels, cachefrom); empty when absent."""
    raw = req.arg(key) or ""
    if not raw:
        return kind()
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidArgument(f"invalid {key}: {raw!r} is not JSON") from None
    if not isinstance(value, kind):
        raise InvalidArgument(f"invalid {key}: expected a JSON {kind.__name__}")
    return value


def refuse_unsupported(req: Request) -> None:
    """400/501 for every option the builder cannot honour, naming it."""
    for key in _UNSUPPORTED_NUMBERS:
        if req.number(key, 0):
            raise NotSupported(f"the build option {key} is not supported by dockyard's builder")
    for key in _UNSUPPORTED_TEXT:
        if req.arg(key):
            raise NotSupported(f"the build option {key} is not supported by dockyard's builder")
    for key in _UNSUPPORTED_LISTS:
        if json_query(req, key, list):
            raise NotSupported(f"the build option {key} is not supported by dockyard's builder")
    if req.flag("squash"):
        raise NotSupported("the build option squash is not supported by dockyard's builder")
    if (req.arg("version") or "1") != "1":
        raise NotSupported("BuildKit (version=2) is not supported: dockyard serves the classic builder")
    if (req.arg("isolation") or "default") != "default":
        raise InvalidArgument(f"isolation {req.arg('isolation')} is not supported on linux")


def registry_auths(req: Request) -> dict:
    """The X-Registry-Config header: {registry: AuthConfig}, for the pulls of FROM."""
    header = req.headers.get("x-registry-config")
    if not header:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidArgument("invalid X-Registry-Config header") from None
    return value if isinstance(value, dict) else {}


def post_build(backend: BuildBackend, req: Request) -> StreamResponse:
    refuse_unsupported(req)
    network = req.arg("networkmode") or "default"
    extra_hosts = [h for h in (req.arg("extrahosts") or "").split(",") if h]
    messages = backend.build(
        req.body,
        dockerfile=req.arg("dockerfile") or "Dockerfile",
        tags=req.args("t"),
        build_args=json_query(req, "buildargs", dict),
        labels=json_query(req, "labels", dict),
        no_cache=req.flag("nocache"),
        pull=req.flag("pull"),
        quiet=req.flag("q"),
        target=req.arg("target") or "",
        network_mode="bridge" if network == "default" else network,
        platform=req.arg("platform") or "",
        remove=req.flag("rm", default=True),
        force_remove=req.flag("forcerm"),
        shm_size=req.number("shmsize", 0) or 0,
        extra_hosts=extra_hosts,
        auths=registry_auths(req),
        cancelled=req.client_gone,
    )
    return StreamResponse(json_lines(messages))


def post_prune(backend: BuildBackend, req: Request) -> Response:
    return json_response(backend.prune())


TABLE = [
    ("POST", "/build", post_build),
    ("POST", "/build/prune", post_prune),
]


def routes(backend: BuildBackend) -> list[Route]:
    """The build routes bound to `backend`."""
    return bind(backend, TABLE)


def routes_without_builder() -> list[Route]:
    """A server with no build backend refuses builds with 501, naming what is missing."""
    refuse = not_supported("building images is not supported by this server")
    return bind(None, [("POST", "/build", refuse), ("POST", "/build/prune", refuse)])
