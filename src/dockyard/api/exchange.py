"""One request on a connection: body framing, routing, the handler, and one of three answers.

A worker of server.py calls `Exchange.run()` once the request head is parsed. No
exception escapes: every failure becomes a JSON error response or a closed connection.
Before a long-lived answer (a stream or a hijacked connection) the exchange calls
`detach()`, so its worker leaves the bounded pool that serves short requests.
"""

from __future__ import annotations

import fcntl
import logging
import select
import socket
import struct
import time
from collections.abc import Callable, Iterator
from itertools import chain
from urllib.parse import parse_qs, unquote, urlsplit

from dockyard import API_VERSION, __version__
from dockyard.api import errors as api_errors
from dockyard.api.connection import Connection
from dockyard.api.hijack import splice
from dockyard.api.http1 import Clock, Head, response_head
from dockyard.api.messages import HijackResponse, Request, Response, StreamResponse, json_response, stream_type
from dockyard.api.routing import Router, negotiate, split_version
from dockyard.api.streams import LengthReader
from dockyard.chunked import LAST_CHUNK, ChunkedReader, chunk
from dockyard.errors import DockyardError

log = logging.getLogger(__name__)

SERVER = f"Docker/{__version__} (linux)"
COMMON_HEADERS = (("Api-Version", API_VERSION), ("Docker-Experimental", "false"), ("Ostype", "linux"))
DRAIN_LIMIT = 1024 * 1024
CLOCK = Clock()


HEAD_GRACE = 0.05  # seconds a hijacked stream waits at most for the client to read the head
ONE_WRITE = 65536  # a response body up to this size goes out in the same write as its head
TIOCOUTQ = 0x5411  # SIOCOUTQ: bytes sent on a socket that its peer has not read yet


class Exchange:
    """Serve `head` on `conn`; `keep_alive` afterwards says whether the connection may be reused."""

    def __init__(self, conn: Connection, head: Head, router: Router, detach: Callable[[], None]) -> None:
        self.conn = conn
        self.head = head
        self.router = router
        self.detach = detach
        self.keep_alive = head.keep_alive
        self.headers_sent = False
        self.body: ChunkedReader | LengthReader = LengthReader(conn, 0)

    def run(self) -> None:
        head = self.head
        try:
            if head.headers.get("expect", "").lower() == "100-continue" and head.version == "HTTP/1.1":
                self.conn.send(b"HTTP/1.1 100 Continue\r\n\r\n", self.conn.limits.write_timeout)
            self.conn.start_body()
            self.body = ChunkedReader(self.conn) if head.chunked else LengthReader(self.conn, head.content_length)
            request, handler = self._route()
            self._respond(request, handler(request))
        except Exception as exc:  # noqa: BLE001 - every failure becomes an HTTP answer
            self._send_error(exc)
        finally:
            self._finish_body()

    def _route(self) -> tuple[Request, Callable]:
        url = urlsplit(self.head.target)
        version, path = split_version(unquote(url.path))
        api_version = negotiate(version)
        match = self.router.match(self.head.method, path)
        request = Request(
            method=self.head.method,
            path=path,
            api_version=api_version,
            params=match.params,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=self.head.headers,
            body=self.body,
            client_gone=lambda: peer_closed(self.conn.sock),
        )
        return request, match.route.handler

    def _finish_body(self) -> None:
        """Skip what the handler left unread, or end the connection if that is too much."""
        if not self.keep_alive or self.body.done:
            return
        try:
            left = DRAIN_LIMIT
            while left > 0 and (data := self.body.read(min(left, 65536))):
                left -= len(data)
        except (OSError, DockyardError):
            pass
        if not self.body.done:
            self.keep_alive = False

    def _head(
        self, status: int, headers: tuple[tuple[str, str], ...], reason: str | None = None, body: bytes = b""
    ) -> None:
        """Send the head, and `body` with it in one write (one wake-up of the client, not two)."""
        self.headers_sent = True
        fixed = (("Server", SERVER), ("Date", CLOCK.date(time.time())))
        if not self.keep_alive and status != 101:
            headers += (("Connection", "close"),)
        self._send(response_head(status, fixed + COMMON_HEADERS + headers, reason) + body)

    def _send(self, data: bytes, timeout: float | None = -1.0) -> None:
        self.conn.send(data, self.conn.limits.write_timeout if timeout == -1.0 else timeout)

    def _respond(self, request: Request, result: object) -> None:
        if isinstance(result, Response):
            self._send_full(result)
        elif isinstance(result, StreamResponse):
            self.detach()
            self._send_stream(result)
        elif isinstance(result, HijackResponse):
            self.detach()
            self._send_hijack(request, result)
        else:
            raise TypeError(f"handler returned {type(result).__name__}, not a response")

    def _send_full(self, response: Response) -> None:
        headers = response.headers
        if response.content_type:
            headers += (("Content-Type", response.content_type),)
        bodyless = response.status in api_errors.BODYLESS
        if not bodyless:
            headers += (("Content-Length", str(len(response.body))),)
        sent = response.body if self.head.method != "HEAD" and not bodyless else b""
        if len(sent) <= ONE_WRITE:
            self._head(response.status, headers, body=sent)
        else:  # not copied into one buffer
            self._head(response.status, headers)
            self._send(sent)

    def _send_error(self, exc: Exception) -> None:
        if not isinstance(exc, DockyardError | OSError):
            log.error("%s %s failed", self.head.method, self.head.target, exc_info=exc)
        if self.headers_sent or isinstance(exc, OSError):  # too late for a status, or nobody to tell
            self.keep_alive = False
            return
        status = api_errors.status_for(exc)
        body = api_errors.error_body(exc)
        try:
            self._send_full(Response(status) if body is None else json_response(body, status))
        except OSError:
            self.keep_alive = False

    def _send_stream(self, response: StreamResponse) -> None:
        chunks = iter(response.chunks)
        try:
            first = next(chunks, b"") if response.prime else b""
            chunked = self.head.version != "HTTP/1.0"
            headers = (("Content-Type", response.content_type), *response.headers)
            if chunked:
                headers += (("Transfer-Encoding", "chunked"),)
            else:
                self.keep_alive = False  # the end of the body is the end of the connection
            self._head(response.status, headers)
            self._write_chunks(first, chunks, chunked, response.single)
        except Exception as exc:
            if not self.headers_sent:
                raise
            log.info("%s %s: stream ended early: %s", self.head.method, self.head.target, exc)
            self.keep_alive = False  # headers are out; closing early tells the client
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def _write_chunks(self, first: bytes, chunks: Iterator[bytes], chunked: bool, single: bool) -> None:
        if single and chunked:
            data = b"".join(chain((first,), chunks))
            self._send((chunk(data) if data else b"") + LAST_CHUNK, None)
            return
        for data in chain((first,), chunks):
            if data:
                self._send(chunk(data) if chunked else data, None)
        if chunked:
            self._send(LAST_CHUNK, None)

    def _send_hijack(self, request: Request, response: HijackResponse) -> None:
        """Answer 101 UPGRADED (or 200 without an Upgrade header), then open the stream and splice."""
        content_type = ("Content-Type", stream_type(response.tty, request.api_version))
        self.keep_alive = False
        if "upgrade" in request.headers:
            self._head(101, (content_type, ("Connection", "Upgrade"), ("Upgrade", "tcp")), "UPGRADED")
        else:
            self._head(200, (content_type,))
        self.conn.lift_deadlines()
        self.conn.sock.settimeout(None)
        wait_until_read(self.conn.sock, HEAD_GRACE)
        splice(self.conn, self.conn.sock, response.open(), response.detach_keys)


def error_answer(status: int, message: str) -> bytes:
    """A complete JSON error response that closes the connection (for heads that cannot be served)."""
    body = json_response({"message": message}, status).body
    fixed = (("Server", SERVER), ("Date", CLOCK.date(time.time())))
    headers = (("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close"))
    return response_head(status, fixed + COMMON_HEADERS + headers) + body


def peer_closed(sock: socket.socket) -> bool:
    """True once the client has closed its end: readable, with nothing left to read.

    Never waits: a socket with a timeout would have recv() wait that long even with
    MSG_DONTWAIT, and the wait for a container calls this while holding the engine's lock.
    """
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    if not poller.poll(0):
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, TimeoutError):
        return False
    except OSError:
        return True


def wait_until_read(sock: socket.socket, limit: float) -> None:
    """Wait, at most `limit` seconds, until the client has read all that was sent on `sock`.

    docker-py reads a response head through http.client's buffer, then the stream through
    the raw socket: stream bytes that reach it with the head are lost (an attach's log replay
    comes at once). On a unix socket SIOCOUTQ counts the bytes the peer has not read, so
    the docker CLI, which reads the head at once, waits well under a millisecond; on other
    sockets it only counts what the peer's kernel has not acknowledged: wait the whole limit.
    """
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if sock.family == socket.AF_UNIX and not unread_bytes(sock):
            return
        time.sleep(min(0.0005, limit))


def unread_bytes(sock: socket.socket) -> int:
    """Bytes sent on `sock` that its peer has not read yet (SIOCOUTQ; 1 when unknown)."""
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), TIOCOUTQ, b"\0\0\0\0"))[0]
    except OSError:
        return 1  # unknown: as if unread
