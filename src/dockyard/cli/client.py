"""A minimal HTTP/1.1 client for the Engine API over a unix socket: one kept-alive connection,
JSON helpers, streamed bodies (chunked or not), and connection hijack for attach/exec.

http.client is not used: it drags in email and ssl (~25 ms at start-up); the framing we need
is a page of code (docs/decisions/0007-cli.md).
"""

from __future__ import annotations

import json
import os
import socket

from dockyard import API_VERSION, __version__
from dockyard.chunked import LAST_CHUNK, ChunkedReader, chunk
from dockyard.errors import (
    Conflict,
    DockyardError,
    Forbidden,
    InvalidArgument,
    NotFound,
    NotSupported,
    RuntimeFailure,
    Unauthorized,
    Unavailable,
)

DEFAULT_HOST = "unix:///run/dockyard/dockyard.sock"
_STATUS_ERRORS = {
    400: InvalidArgument,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    501: NotSupported,
    503: Unavailable,
}


class DaemonUnreachable(Unavailable):
    """Nothing answers on the daemon's socket."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"Cannot connect to the dockyard daemon at {host}. Is the daemon running? Start it with: dockyard daemon"
        )


def daemon_error(status: int, body: bytes) -> DockyardError:
    """Turn an error response into the dockyard error class for its status, marked as the daemon's."""
    try:
        message = json.loads(body).get("message", "")
    except (ValueError, AttributeError):
        message = body.decode(errors="replace").strip()
    error = _STATUS_ERRORS.get(status, RuntimeFailure)(message or f"HTTP status {status}")
    error.status = status
    return error


def socket_path(host: str) -> str:
    """The filesystem path of a `unix://` host."""
    if host.startswith("unix://"):
        return host[len("unix://") :]
    if host.startswith("/"):
        return host
    raise InvalidArgument(f"invalid host {host!r}: only unix:// sockets are supported")


def resolve_host(flag: str | None) -> str:
    """-H wins, then DOCKYARD_HOST, then the default socket."""
    return flag or os.environ.get("DOCKYARD_HOST") or DEFAULT_HOST


def encode_request(method: str, target: str, headers: dict[str, str], body: bytes | None) -> bytes:
    """Serialize one request head and body."""
    lines = [f"{method} {target} HTTP/1.1", "Host: api.moby.localhost", f"User-Agent: dockyard/{__version__}"]
    framed = "Content-Length" in headers or "Transfer-Encoding" in headers
    if not framed and (body is not None or method in ("POST", "PUT")):
        lines.append(f"Content-Length: {len(body or b'')}")
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class Response:
    """A response head plus a body read lazily from the connection."""

    def __init__(self, reader, status: int, headers: dict[str, str], head_only: bool = False) -> None:
        self.reader = reader
        self.status = status
        self.headers = headers
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self.chunks = ChunkedReader(reader, "response body") if chunked else None
        length = headers.get("content-length")
        self.remaining = int(length) if length is not None and not chunked else None
        self.done = head_only or status in (204, 304) or self.remaining == 0

    def iter_raw(self, size: int = 65536):
        """Yield body bytes as they arrive."""
        while not self.done:
            data = self._next(size)
            if not data:
                self.done = True
                return
            yield data

    def _next(self, size: int) -> bytes:
        if self.chunks is not None:
            return self.chunks.read(size)
        if self.remaining is None:
            return self.reader.read1(size)
        data = self.reader.read(min(size, self.remaining)) if self.remaining else b""
        self.remaining -= len(data)
        self.done = self.remaining <= 0 or not data
        return data

    def read(self) -> bytes:
        return b"".join(self.iter_raw())

    def json(self) -> object:
        data = self.read()
        return json.loads(data) if data.strip() else None


def read_head(reader) -> tuple[int, dict[str, str]]:
    """Read a status line and headers; header names lower-cased."""
    line = reader.readline()
    if not line:
        raise ConnectionResetError("connection closed by the daemon")
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise RuntimeFailure(f"malformed HTTP response: {line[:80]!r}")
    headers: dict[str, str] = {}
    while True:
        raw = reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


class Client:
    """Engine API calls over one kept-alive unix-socket connection (plus extra ones on demand)."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.path = socket_path(host)
        self._sock: socket.socket | None = None
        self._reader = None
        self._last: Response | None = None

    def _connect(self) -> tuple[socket.socket, object]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise DaemonUnreachable(self.host) from exc
        return sock, sock.makefile("rb")

    def url(self, path: str, query: dict | None = None) -> str:
        """A versioned request target: /v1.44/<path>?<query>."""
        target = f"/v{API_VERSION}{path}"
        pairs = [
            (k, _query_value(item))
            for k, v in (query or {}).items()
            if v is not None
            for item in (v if isinstance(v, list) else [v])
        ]
        return f"{target}?{urlencode(pairs)}" if pairs else target

    def request(
        self,
        method: str,
        path: str,
        query: dict | None = None,
        body: object = None,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> Response:
        """Send one request on the shared connection; raise the daemon's error for statuses >= 400."""
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        raw = encode_request(method, self.url(path, query), headers, data)
        response = self._exchange(raw, method == "HEAD")
        if response.status >= 400:
            raise daemon_error(response.status, response.read())
        self._last = response
        return response

    def _exchange(self, raw: bytes, head_only: bool = False) -> Response:
        self._release()
        for attempt in (0, 1):
            if self._sock is None:
                self._sock, self._reader = self._connect()
            try:
                self._sock.sendall(raw)
                status, headers = read_head(self._reader)
                return Response(self._reader, status, headers, head_only)
            except (ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise DaemonUnreachable(self.host) from None
        raise AssertionError("unreachable")

    def upload(
        self,
        method: str,
        path: str,
        query: dict | None,
        source,
        content_type: str,
        length: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send a body read from a binary file object: Content-Length when known, else chunked."""
        head = {"Content-Type": content_type, **(headers or {})}
        if length is None:
            head["Transfer-Encoding"] = "chunked"
        else:
            head["Content-Length"] = str(length)
        raw = encode_request(method, self.url(path, query), head, None)
        self._release()
        if self._sock is None:
            self._sock, self._reader = self._connect()
        self._sock.sendall(raw)
        while data := source.read(1 << 16):
            self._sock.sendall(data if length is not None else chunk(data))
        if length is None:
            self._sock.sendall(LAST_CHUNK)
        response = Response(self._reader, *read_head(self._reader))
        if response.status >= 400:
            raise daemon_error(response.status, response.read())
        self._last = response
        return response

    def call(self, method: str, path: str, query: dict | None = None, body: object = None) -> None:
        """A request whose response body does not matter (204s and the like)."""
        self.request(method, path, query, body).read()

    def json(self, method: str, path: str, query: dict | None = None, body: object = None) -> object:
        return self.request(method, path, query, body).json()

    def get(self, path: str, query: dict | None = None) -> object:
        return self.json("GET", path, query)

    def post(self, path: str, query: dict | None = None, body: object = None) -> object:
        return self.json("POST", path, query, body)

    def delete(self, path: str, query: dict | None = None) -> object:
        return self.json("DELETE", path, query)

    def open(
        self, method: str, path: str, query: dict | None = None, body: object = None, upgrade: bool = False
    ) -> tuple[socket.socket, object, Response]:
        """A request on a fresh connection of its own (wait, hijack); the caller owns the socket."""
        sock, reader = self._connect()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if upgrade:
            headers.update({"Connection": "Upgrade", "Upgrade": "tcp"})
        data = json.dumps(body).encode() if body is not None else None
        sock.sendall(encode_request(method, self.url(path, query), headers, data))
        status, head = read_head(reader)
        response = Response(reader, status, head)
        if status >= 400:
            error = daemon_error(status, response.read())
            sock.close()
            raise error
        if upgrade:
            response.remaining, response.chunks = None, None
        return sock, reader, response

    def _release(self) -> None:
        """Drop the connection if the last response is unread or the daemon asked to close."""
        last = self._last
        if last is not None and (not last.done or last.headers.get("connection", "").lower() == "close"):
            self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = self._reader = self._last = None


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def quote(text: str, safe: str = "") -> str:
    """Percent-encode like urllib.parse.quote (not imported: it costs ~3 ms at start-up)."""
    allowed = _UNRESERVED | frozenset(safe.encode())
    return "".join(chr(b) if b in allowed else f"%{b:02X}" for b in text.encode())


def urlencode(pairs: list[tuple[str, str]]) -> str:
    """key=value&... with form encoding (spaces as '+'), as Go's url.Values.Encode does."""
    return "&".join(f"{quote(k, ' ').replace(' ', '+')}={quote(v, ' ').replace(' ', '+')}" for k, v in pairs)


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def path_id(ref: str) -> str:
    """Escape a reference for a URL path as Go does (/, : and @ stay as they are)."""
    return quote(ref, safe="/:@")
