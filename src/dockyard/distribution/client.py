"""Talking to one registry endpoint: the auth dance, redirects, and registry error bodies.

`Registries` is what a daemon holds once: settings, credentials, pooled connections and
the auth state of every endpoint. `RegistryClient` sends one request to one endpoint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import BinaryIO, TypeVar
from urllib.parse import urljoin, urlsplit

from dockyard.distribution.auth import RegistryAuth
from dockyard.distribution.config import Endpoint, RegistryConfig
from dockyard.distribution.credentials import Credentials, CredentialSource, DockerConfigFile
from dockyard.distribution.transport import Request, Response, Tls, Transport
from dockyard.errors import DockyardError, Forbidden, InvalidArgument, NotFound, Unauthorized, Unavailable

T = TypeVar("T")
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5


class RegistryClient:
    """Requests to one endpoint, authorised by its RegistryAuth."""

    def __init__(self, endpoint: Endpoint, transport: Transport, auth: RegistryAuth) -> None:
        self.endpoint = endpoint
        self.transport = transport
        self.auth = auth

    def url(self, path: str) -> str:
        """An absolute URL for a path (`/v2/...`) or a Location header the registry sent."""
        return urljoin(self.endpoint.url + "/", path)

    def send(
        self,
        method: str,
        path: str,
        scopes: tuple[str, ...] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes | Callable[[], BinaryIO] | None = None,
    ) -> Response:
        """Send with auth and redirects; the caller reads and closes the response.

        Raises:
            Unavailable: the endpoint cannot be reached.
        """
        request = Request(method, self.url(path), dict(headers or {}), body, self.endpoint.tls)
        response = self._authorized(request, scopes)
        for _ in range(MAX_REDIRECTS):
            if response.status not in REDIRECTS or method not in ("GET", "HEAD"):
                return response
            request = redirected(request, response)
            response = self.transport.send(request)
        if response.status in REDIRECTS and method in ("GET", "HEAD"):
            _drain(response)
            raise Unavailable(f"{request.describe()}: stopped after {MAX_REDIRECTS} redirects")
        return response

    def _authorized(self, request: Request, scopes: tuple[str, ...]) -> Response:
        flow = self.auth.auth_flow(request, scopes)
        outgoing = next(flow)
        while True:
            response = self.transport.send(outgoing)
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return response
            except BaseException:
                response.close()
                raise
            _drain(response)


def redirected(request: Request, response: Response) -> Request:
    """The request to send after a redirect. Credentials go only to the same origin: another host
    (the blob's object store) or an https->http downgrade gets none, and another host does not get
    the registry's TLS exceptions either, as Go's client does.

    Raises:
        Unavailable: a redirect without a Location.
    """
    location = response.header("Location")
    _drain(response)
    if not location:
        raise Unavailable(f"{request.describe()}: {response.status} redirect without a Location")
    target = urljoin(request.url, location)
    source, dest = urlsplit(request.url), urlsplit(target)
    if dest.netloc == source.netloc and (dest.scheme == source.scheme or dest.scheme == "https"):
        return replace(request, url=target)
    tls = request.tls if dest.netloc == source.netloc else Tls()
    return replace(request.without_header("Authorization"), url=target, tls=tls)


def _drain(response: Response) -> None:
    """Read a small unwanted body so its connection can be reused."""
    try:
        response.read(limit=1 << 20)
    except DockyardError:
        response.close()


def error_detail(response: Response) -> str:
    """The registry's own words (`manifest unknown: manifest unknown`), or the status line."""
    try:
        body = response.json()
    except DockyardError:
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = str(first.get("code", "")).lower().replace("_", " ")
        return f"{code}: {first.get('message', '')}" if code else str(first.get("message", ""))
    return f"{response.status} {response.reason}".strip()


def raise_for_status(response: Response, what: str) -> None:
    """Turn an error response into the matching dockyard error; `what` names the request."""
    if response.status < 400:
        return
    detail = error_detail(response)
    kind: type[DockyardError] = {401: Unauthorized, 403: Forbidden, 404: NotFound}.get(response.status, Unavailable)
    if 400 <= response.status < 500 and kind is Unavailable and response.status != 429:
        kind = InvalidArgument
    raise kind(f"{what}: {detail}")


class Registries:
    """Registry settings, credentials and connections shared by every pull and push."""

    def __init__(
        self,
        config: RegistryConfig | None = None,
        credentials: CredentialSource | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.config = config or RegistryConfig()
        self.credentials = credentials if credentials is not None else DockerConfigFile()
        self.transport = transport or Transport()
        self._auth: dict[tuple[str, Credentials | None], RegistryAuth] = {}
        self._working: dict[str, str] = {}
        self._lock = threading.Lock()

    def endpoints(self, registry: str, push: bool = False) -> list[Endpoint]:
        """Endpoints in the order to try; the one that last worked for a registry goes first."""
        endpoints = self.config.endpoints(registry, push)
        preferred = self._working.get(registry)
        return sorted(endpoints, key=lambda e: e.url != preferred)

    def worked(self, endpoint: Endpoint) -> None:
        """Remember that an endpoint answered, so the next pull starts there."""
        if not endpoint.mirror:
            self._working[endpoint.registry] = endpoint.url

    def client(self, endpoint: Endpoint, credentials: Credentials | None = None) -> RegistryClient:
        """A client for the endpoint; explicit credentials win over stored ones."""
        if credentials is None:
            credentials = self.credentials.get(endpoint.host if endpoint.mirror else endpoint.registry)
        with self._lock:
            auth = self._auth.setdefault((endpoint.url, credentials), RegistryAuth(credentials))
        return RegistryClient(endpoint, self.transport, auth)


def try_endpoints(endpoints: list[Endpoint], attempt: Callable[[Endpoint], T]) -> T:
    """Run attempt on each endpoint in turn until one succeeds; re-raise the last endpoint's error.

    A mirror that fails in any way (unreachable, missing the image, serving bad bytes), or an
    endpoint that cannot be reached, falls through to the next one, as docker falls back from
    mirrors and from HTTPS to HTTP.
    """
    if not endpoints:
        raise InvalidArgument("no endpoint to try")
    for endpoint in endpoints[:-1]:
        try:
            return attempt(endpoint)
        except DockyardError as exc:
            if not (endpoint.mirror or isinstance(exc, Unavailable)):
                raise
    return attempt(endpoints[-1])
