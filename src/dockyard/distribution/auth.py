"""Registry auth as a generator (httpx `Auth.auth_flow` shape): `response = yield request`.

    request ──> 401 + WWW-Authenticate: Bearer realm=..,service=..,scope=..
            ──> GET realm?service=..&scope=.. (Basic credentials, or POST a refresh token)
            ──> {"token": ..} ──> request + "Authorization: Bearer <token>"
    request ──> 401 + WWW-Authenticate: Basic realm=..  ──> request + "Authorization: Basic .."

Tokens are cached per scope set until they expire; after the first challenge, requests for a
new scope fetch their token first, so a request body is not sent just to learn it needs one.
The generator does no I/O; `RegistryClient.send` drives it.

Credentials go to the token realm the registry names (Docker Hub's is another host, as docker
allows) only over https, or over http to the registry's own host when the registry itself is
plain http: a realm that would downgrade them is refused with Unauthorized.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from dockyard.distribution.credentials import Credentials
from dockyard.distribution.transport import Request, Response
from dockyard.errors import Unauthorized, Unavailable

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf'({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))')
_SCHEME = re.compile(rf"({_TOKEN})(?=[\s,]|$)")
_SEPARATORS = re.compile(r"[\s,]*")
CLIENT_ID = "dockyard"
Flow = Generator[Request, Response, None]


@dataclass(frozen=True, slots=True)
class Challenge:
    """One WWW-Authenticate challenge: scheme (lower case) and its parameters."""

    scheme: str
    params: Mapping[str, str]


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a WWW-Authenticate value, which may hold several challenges."""
    found: list[tuple[str, dict[str, str]]] = []
    pos = 0
    while (pos := _SEPARATORS.match(header, pos).end()) < len(header):
        param = _PARAM.match(header, pos)
        if param is not None and found:
            value = param.group(2) if param.group(2) is not None else param.group(3)
            found[-1][1][param.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
            pos = param.end()
            continue
        scheme = _SCHEME.match(header, pos)
        if scheme is None:
            break
        found.append((scheme.group(1).lower(), {}))
        pos = scheme.end()
    return [Challenge(scheme, params) for scheme, params in found]


def repository_scope(path: str, *actions: str) -> str:
    """`repository:library/busybox:pull,push`."""
    return f"repository:{path}:{','.join(actions)}"


def basic_header(credentials: Credentials) -> str:
    raw = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class RegistryAuth:
    """Credentials for one registry, its last challenge, and tokens by scope."""

    def __init__(self, credentials: Credentials | None = None) -> None:
        self.credentials = credentials
        self._challenge: Challenge | None = None
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def auth_flow(self, request: Request, scopes: tuple[str, ...]) -> Flow:
        """Yield the request (with auth), then whatever the challenge asks for, then the retry."""
        header = self._cached(scopes)
        if header is None and self._challenge is not None:
            header = yield from self._authorize(self._challenge, scopes, request.url)
        response = yield request.with_header("Authorization", header) if header else request
        if response.status != 401:
            return
        challenge = _pick(parse_challenges(", ".join(response.headers.get_all("WWW-Authenticate") or [])))
        if challenge is None:
            return
        self._challenge = challenge
        header = yield from self._authorize(challenge, scopes, request.url)
        if header is not None:
            yield request.with_header("Authorization", header)

    def _cached(self, scopes: tuple[str, ...]) -> str | None:
        with self._lock:
            header, expiry = self._tokens.get(scopes, ("", 0.0))
        return header if header and expiry > time.monotonic() else None

    def _authorize(
        self, challenge: Challenge, scopes: tuple[str, ...], url: str
    ) -> Generator[Request, Response, str | None]:
        if challenge.scheme == "basic":
            return basic_header(self.credentials) if self.credentials and self.credentials.username else None
        if not scopes and challenge.params.get("scope"):
            scopes = (challenge.params["scope"],)
        response = yield self._token_request(challenge, scopes, url)
        token, lifetime = _read_token(response)
        header = f"Bearer {token}"
        with self._lock:
            self._tokens[scopes] = (header, time.monotonic() + max(lifetime - 10, 1))
        return header

    def _token_request(self, challenge: Challenge, scopes: tuple[str, ...], url: str) -> Request:
        realm = challenge.params.get("realm", "")
        if urlsplit(realm).scheme not in ("http", "https"):
            raise Unauthorized(f"invalid token auth challenge realm: {realm!r}")
        service = challenge.params.get("service", "")
        creds = self.credentials
        if creds and (creds.username or creds.identity_token) and not may_send_credentials(url, realm):
            raise Unauthorized(f"refusing to send the credentials for {urlsplit(url).netloc} to {realm}: not https")
        if creds and creds.identity_token:
            form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", creds.identity_token),
                ("service", service),
                ("client_id", CLIENT_ID),
            ] + [("scope", s) for s in scopes]
            return Request(
                "POST", realm, {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(form).encode()
            )
        query = urlencode([("service", service)] * bool(service) + [("scope", s) for s in scopes])
        url = realm + ("&" if "?" in realm else "?") + query if query else realm
        headers = {"Authorization": basic_header(creds)} if creds and creds.username else {}
        return Request("GET", url, headers)


def may_send_credentials(registry_url: str, realm: str) -> bool:
    """Whether a registry's credentials may go to its token `realm` (see the module docstring)."""
    source, dest = urlsplit(registry_url), urlsplit(realm)
    return dest.scheme == "https" or (source.scheme == "http" and source.hostname == dest.hostname)


def _pick(challenges: list[Challenge]) -> Challenge | None:
    """Prefer bearer over basic, as docker does; ignore schemes we do not speak."""
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def _read_token(response: Response) -> tuple[str, float]:
    """Token and lifetime from a token server's answer.

    Raises:
        Unauthorized: the token server refused the credentials.
        Unavailable: the token server failed or answered nonsense.
    """
    if response.status in (401, 403):
        response.read()
        raise Unauthorized("unauthorized: incorrect username or password")
    if response.status != 200:
        response.read()
        raise Unavailable(f"token server {response.request.url} answered {response.status} {response.reason}")
    data = response.json()
    token = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise Unavailable(f"token server {response.request.url} sent no token")
    lifetime = data.get("expires_in") or 60
    return token, float(lifetime if isinstance(lifetime, (int, float)) else 60)
