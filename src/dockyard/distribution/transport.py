"""HTTP/1.1 to registries over the stdlib's http.client (docs/decisions/0008-distribution.md).

Requests and responses are plain data; `Transport.send()` is the one place that touches
the network and the one place that turns socket and protocol errors into `Unavailable`
(`HandshakeFailed` for a TLS failure that trying again cannot mend: a certificate that does
not verify, or a peer that does not speak TLS, such as an HTTP registry tried over HTTPS first,
as docker tries an insecure one). Connections are kept alive and reused per (scheme, host,
TLS settings); an SSL context is built once per TLS settings and versions of their files
(loading the system's CAs costs some 30 ms; certs.d files are re-read once changed).
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from dockyard.errors import InvalidArgument, Unavailable

USER_AGENT = "dockyard/0.1 (distribution client)"
BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Tls:
    """How to check a registry's TLS: verify or not, extra CAs, a client certificate (certs.d)."""

    verify: bool = True
    ca_files: tuple[str, ...] = ()
    client_cert: tuple[str, str] | None = None

    def context(self) -> ssl.SSLContext:
        """Raises Unavailable when a certificate file cannot be loaded."""
        context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            for ca_file in self.ca_files:
                context.load_verify_locations(cafile=ca_file)
            if self.client_cert:
                context.load_cert_chain(*self.client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise Unavailable(f"loading registry certificates: {exc}") from None
        return context


class HandshakeFailed(Unavailable):
    """The TLS handshake cannot succeed with this endpoint (another endpoint may do)."""


# what OpenSSL reports when the peer answers a ClientHello in plain text
_PLAINTEXT_PEER = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG"})


def _is_final(exc: BaseException) -> bool:
    """A TLS failure no retry can mend; a dropped or cut handshake (SSLEOFError) is not one."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return True
    return isinstance(exc, ssl.SSLError) and exc.reason in _PLAINTEXT_PEER


def _context(tls: Tls) -> ssl.SSLContext:
    """The SSL context of these settings, shared (a context is safe between threads) until one
    of its certificate files changes. Raises Unavailable when a file cannot be loaded."""
    stamps = []
    for path in (*tls.ca_files, *(tls.client_cert or ())):
        try:
            status = os.stat(path)
        except OSError:
            return tls.context()  # raises, naming the file
        stamps.append((status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns))
    return _cached_context(tls, tuple(stamps))


@functools.lru_cache(maxsize=32)
def _cached_context(tls: Tls, stamps: tuple) -> ssl.SSLContext:
    return tls.context()


_Key = tuple[str, str, Tls]


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request; a callable body opens a fresh stream each time, so it can be resent."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | Callable[[], BinaryIO] | None = None
    tls: Tls = Tls()

    def with_header(self, name: str, value: str) -> Request:
        return replace(self, headers={**self.headers, name: value})

    def without_header(self, name: str) -> Request:
        return replace(self, headers={k: v for k, v in self.headers.items() if k.lower() != name.lower()})

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def describe(self) -> str:
        """How Go's net/http names a request in an error: `Get "https://host/v2/"`."""
        return f'{self.method.capitalize()} "{self.url}"'


class Response:
    """Status, headers, and a body read as a stream; close() hands the connection back."""

    def __init__(
        self,
        request: Request,
        raw: http.client.HTTPResponse | None,
        release: Callable[[bool], None],
        status: int = 0,
        reason: str = "",
    ) -> None:
        self.request = request
        self.status = raw.status if raw else status
        self.reason = raw.reason if raw else reason
        self.headers = raw.headers if raw else http.client.HTTPMessage()
        self._raw = raw
        self._release = release

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default) or default

    def readinto(self, buffer: memoryview) -> int:
        """Read body bytes into buffer; 0 at the end. Raises Unavailable if the stream breaks."""
        if self._raw is None:
            return 0
        try:
            count = self._raw.readinto(buffer)
        except (OSError, http.client.HTTPException) as exc:
            self._discard()
            raise Unavailable(f"{self.request.describe()}: {_describe(exc)}") from None
        if count == 0 and self._raw.length not in (None, 0):
            self._discard()
            raise Unavailable(f"{self.request.describe()}: unexpected EOF")
        return count

    def _discard(self) -> None:
        """Close a broken response; its connection is not reused."""
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.close()
            self._release(False)

    def read(self, limit: int = 16 << 20) -> bytes:
        """The whole body (manifests, errors, tokens), refusing bodies over `limit` bytes."""
        out = bytearray()
        buffer = memoryview(bytearray(65536))
        while count := self.readinto(buffer):
            out += buffer[:count]
            if len(out) > limit:
                self.close()
                raise InvalidArgument(f"{self.request.describe()}: response body over {limit} bytes")
        self.close()
        return bytes(out)

    def json(self) -> Any:
        try:
            return json.loads(self.read())
        except ValueError:
            raise Unavailable(f"{self.request.describe()}: invalid JSON in response") from None

    def close(self) -> None:
        """Release the connection: kept for reuse only when the body was read to the end."""
        raw, self._raw = self._raw, None
        if raw is not None:
            complete = raw.isclosed() or raw.length == 0
            raw.close()
            self._release(complete and not raw.will_close)


class Transport:
    """Sends requests over pooled keep-alive connections."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._idle: dict[_Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def send(self, request: Request) -> Response:
        """Send and return the response with its body unread.

        Raises:
            HandshakeFailed: the TLS handshake cannot succeed (see _is_final).
            Unavailable: the connection failed before a response arrived.
        """
        parts = urlsplit(request.url)
        key: _Key = (parts.scheme, parts.netloc, request.tls)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"User-Agent": USER_AGENT, **request.headers}
        for attempt in range(2):
            conn, reused = self._connection(key)
            try:
                raw = _exchange(conn, request, path, headers)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if reused and attempt == 0:
                    continue  # a kept-alive connection the server had closed: try a fresh one
                if _is_final(exc):
                    raise HandshakeFailed(f"{request.describe()}: {_describe(exc)}") from None
                raise Unavailable(f"{request.describe()}: {_describe(exc)}") from None
            return Response(request, raw, lambda keep: self._release(key, conn, keep))  # noqa: B023 (called before the loop moves on)
        raise AssertionError("unreachable")

    def _connection(self, key: _Key) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop(), True
        scheme, netloc, tls = key
        if scheme == "https":
            return http.client.HTTPSConnection(
                netloc, timeout=self.timeout, context=_context(tls), blocksize=BLOCK
            ), False
        if scheme != "http":
            raise InvalidArgument(f"unsupported URL scheme: {scheme}")
        return http.client.HTTPConnection(netloc, timeout=self.timeout, blocksize=BLOCK), False

    def _release(self, key: _Key, conn: http.client.HTTPConnection, keep: bool) -> None:
        if not keep:
            conn.close()
            return
        with self._lock:
            self._idle.setdefault(key, []).append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


def _exchange(
    conn: http.client.HTTPConnection, request: Request, path: str, headers: dict[str, str]
) -> http.client.HTTPResponse:
    body = request.body() if callable(request.body) else request.body
    try:
        if body is None and request.method in ("POST", "PUT", "PATCH"):
            headers = {"Content-Length": "0", **headers}
        conn.request(request.method, path, body=body, headers=headers)
        return conn.getresponse()
    finally:
        if body is not None and not isinstance(body, bytes):
            body.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, http.client.IncompleteRead):
        return "unexpected EOF"
    if isinstance(exc, ConnectionRefusedError):
        return "connect: connection refused"
    return str(exc) or type(exc).__name__
