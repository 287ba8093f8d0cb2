"""The HTTP/1.1 server on a unix socket: stdlib `http.server`, one thread per connection.

Why this stack: docs/decisions/0001-http-stack.md. The handler parses the request line and
headers (stdlib), picks the body reader (Content-Length or chunked), routes, calls the
handler, and writes one of the three response kinds (messages.py). It never lets an
exception escape a request: every error becomes a JSON error response or a closed
connection.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import socketserver
import stat
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler
from itertools import chain
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from dockyard import API_VERSION, __version__
from dockyard.api import errors as api_errors
from dockyard.api.backend import Backends
from dockyard.api.hijack import splice
from dockyard.api.messages import HijackResponse, Request, Response, StreamResponse, json_response, stream_type
from dockyard.api.routers import build_router
from dockyard.api.routing import Router, negotiate, split_version
from dockyard.api.streams import LAST_CHUNK, ChunkedReader, LengthReader, chunk
from dockyard.errors import Conflict, DockyardError, InvalidArgument
from dockyard.paths import DEFAULT_SOCKET

log = logging.getLogger(__name__)

SERVER = f"Docker/{__version__} (linux)"
COMMON_HEADERS = (("Api-Version", API_VERSION), ("Docker-Experimental", "false"), ("Ostype", "linux"))
SOCKET_MODE = 0o660
DRAIN_LIMIT = 1024 * 1024
HEAD_GRACE = 0.05


class _Handler(BaseHTTPRequestHandler):
    """One connection: parse, route, respond; keep-alive until the client or an error ends it."""

    protocol_version = "HTTP/1.1"
    server: _UnixServer

    def version_string(self) -> str:
        return SERVER

    def address_string(self) -> str:
        return "unix"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s", format % args)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer what the stdlib parser rejects (request line, headers) in JSON, then close."""
        self.request_version = self.protocol_version  # never answer in HTTP/0.9 (no status line)
        self.close_connection = True
        self._headers_sent = False
        body = json_response({"message": message or self.responses.get(code, ("error",))[0]}, code)
        self._send_full(body)

    def _dispatch(self) -> None:
        self._headers_sent = False
        body: ChunkedReader | LengthReader = LengthReader(self.rfile, 0)
        try:
            body = self._body_reader()
            request, handler = self._route(body)
            result = handler(request)
            self._respond(request, result)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an HTTP answer
            self._send_error(exc)
        finally:
            self._finish_body(body)

    def _body_reader(self) -> ChunkedReader | LengthReader:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return ChunkedReader(self.rfile)
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        if not raw.isdigit():
            self.close_connection = True
            raise InvalidArgument(f"invalid Content-Length: {raw!r}")
        return LengthReader(self.rfile, int(raw))

    def _route(self, body: ChunkedReader | LengthReader) -> tuple[Request, object]:
        url = urlsplit(self.path)
        version, path = split_version(unquote(url.path))
        api_version = negotiate(version)
        match = self.server.router.match(self.command, path)
        request = Request(
            method=self.command,
            path=path,
            api_version=api_version,
            params=match.params,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client_gone=lambda: _peer_closed(self.connection),
        )
        return request, match.route.handler

    def _finish_body(self, body: ChunkedReader | LengthReader) -> None:
        """Skip what the handler left unread, or close the connection if that is too much."""
        if self.close_connection or body.done:
            return
        try:
            left = DRAIN_LIMIT
            while left > 0 and (data := body.read(min(left, 65536))):
                left -= len(data)
        except (OSError, DockyardError):
            pass
        if not body.done:
            self.close_connection = True

    def _head(self, status: int, headers: tuple[tuple[str, str], ...], message: str | None = None) -> None:
        self._headers_sent = True
        self.send_response(status, message)
        for name, value in COMMON_HEADERS + headers:
            self.send_header(name, value)
        self.end_headers()

    def _respond(self, request: Request, result: object) -> None:
        if isinstance(result, Response):
            self._send_full(result)
        elif isinstance(result, StreamResponse):
            self._send_stream(result)
        elif isinstance(result, HijackResponse):
            self._send_hijack(request, result)
        else:
            raise TypeError(f"handler returned {type(result).__name__}, not a response")

    def _send_full(self, response: Response) -> None:
        headers = response.headers
        if response.content_type:
            headers += (("Content-Type", response.content_type),)
        if response.status not in api_errors.BODYLESS:
            headers += (("Content-Length", str(len(response.body))),)
        self._head(response.status, headers)
        if response.body and self.command != "HEAD" and response.status not in api_errors.BODYLESS:
            self.wfile.write(response.body)

    def _send_error(self, exc: Exception) -> None:
        if not isinstance(exc, DockyardError):
            log.error("%s %s failed", self.command, self.path, exc_info=exc)
        if self._headers_sent:  # too late for a status: end the connection instead
            self.close_connection = True
            return
        status = api_errors.status_for(exc)
        body = api_errors.error_body(exc)
        try:
            self._send_full(Response(status) if body is None else json_response(body, status))
        except OSError:
            self.close_connection = True

    def _send_stream(self, response: StreamResponse) -> None:
        chunks = iter(response.chunks)
        first = next(chunks, b"") if response.prime else b""
        chunked = self.request_version != "HTTP/1.0"
        framing = ("Transfer-Encoding", "chunked") if chunked else ("Connection", "close")
        self._head(response.status, (("Content-Type", response.content_type), framing))
        try:
            self._write_chunks(first, chunks, chunked)
        except Exception as exc:  # noqa: BLE001 - headers are out; closing early tells the client
            log.info("%s %s: stream ended early: %s", self.command, self.path, exc)
            self.close_connection = True
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def _write_chunks(self, first: bytes, chunks: Iterator[bytes], chunked: bool) -> None:
        self.wfile.flush()
        for data in chain((first,), chunks):
            if data:
                self.wfile.write(chunk(data) if chunked else data)
                self.wfile.flush()
        if chunked:
            self.wfile.write(LAST_CHUNK)

    def _send_hijack(self, request: Request, response: HijackResponse) -> None:
        """Answer 101 UPGRADED (or 200 without an Upgrade header), then splice."""
        content_type = ("Content-Type", stream_type(response.stream.tty, request.api_version))
        if "upgrade" in request.headers:
            self._head(101, (content_type, ("Connection", "Upgrade"), ("Upgrade", "tcp")), "UPGRADED")
        else:
            self._head(200, (content_type,))
        self.close_connection = True
        self.wfile.flush()
        # docker-py reads the head through http.client's buffer and then the raw socket: stream
        # bytes that arrive with the head are lost to it. dockerd's own latency (starting the
        # exec, opening the log) keeps them apart; a short pause does the same here.
        time.sleep(HEAD_GRACE)
        splice(self.rfile, self.connection, response.stream, response.detach_keys)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """A thread per connection; long streams and hijacked sessions never block shutdown."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, path: str, router: Router) -> None:
        self.router = router
        super().__init__(path, _Handler, bind_and_activate=False)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that resets its connection is routine; anything else is logged loudly."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            log.debug("client connection dropped: %s", exc)
        else:
            log.error("connection handler failed", exc_info=exc)


class ApiServer:
    """The Docker Engine API on a unix socket, serving `backends`.

    The socket is bound (mode 0660, replacing a stale socket file) when the object is
    built, so clients can connect as soon as it exists; serve_forever() answers them.
    Raises Conflict when another server is already listening on `socket_path`.
    """

    def __init__(self, backends: Backends, socket_path: str | Path = DEFAULT_SOCKET) -> None:
        self.socket_path = Path(socket_path)
        _clear_stale_socket(self.socket_path)
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self._server = _UnixServer(str(self.socket_path), build_router(backends))
        self._serving = threading.Event()
        self._closed = threading.Event()
        try:
            self._server.server_bind()
        except BaseException:
            self._server.server_close()
            raise
        try:
            os.chmod(self.socket_path, SOCKET_MODE)
            self._server.server_activate()
        except BaseException:
            self._server.server_close()
            self.socket_path.unlink(missing_ok=True)
            raise

    def serve_forever(self) -> None:
        """Answer requests until shutdown() is called from another thread."""
        if self._closed.is_set():
            return
        self._serving.set()
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._serving.clear()

    def shutdown(self) -> None:
        """Stop accepting connections and remove the socket; open streams end with their clients."""
        self._closed.set()
        if self._serving.is_set():
            self._server.shutdown()
        self._server.server_close()
        with suppress(FileNotFoundError):
            self.socket_path.unlink()


def _peer_closed(sock: socket.socket) -> bool:
    """True once the client has closed its end: readable, with nothing left to read."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _clear_stale_socket(path: Path) -> None:
    """Remove a socket file nobody listens on; refuse to replace a live server or a non-socket."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise InvalidArgument(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()
        return
    finally:
        probe.close()
    raise Conflict(f"another daemon is already listening on {path}")
