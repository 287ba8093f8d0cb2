"""HTTP/1.1 over threads with h11: one thread per connection, keep-alive, streamed bodies, sendfile.

h11 does the framing (request parsing, chunked and Content-Length bodies, keep-alive rules);
this module moves bytes. A handler gets a `Request` whose `body` pulls from the socket as it
is iterated, so an upload streams to disk, and returns a `Response` whose body is bytes or a
`FileSpan` that goes out through sendfile. How much body a handler accepts is its own limit.

Slow clients are cut off by deadlines per request (`Deadlines`), not only per read: a kept-alive
connection may idle for `idle`, a request's headers must be complete `header` seconds after its
first byte (408), and a body must average `body_min_rate` bytes/s once `body_grace` has passed,
so a client that trickles one byte a second holds a thread for seconds, not forever. The same
rate applies to a blob the client reads (a slow reader is cut off). Every read still has `read`
as its own timeout.
"""

from __future__ import annotations

import fcntl
import os
import selectors
import socket
import ssl
import struct
import sys
import termios
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import BinaryIO
from urllib.parse import parse_qsl, urlsplit

import h11

RECV_SIZE = 256 * 1024
MAX_HEADER_SIZE = 64 * 1024
DRAIN_LIMIT = 1024 * 1024
SEND_SLICE = 256 * 1024  # per send through TLS, where sendfile cannot go
TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Seconds: per read, idle between requests, first byte to end of headers, body grace; body bytes/s."""

    read: float = 60.0
    idle: float = 60.0
    header: float = 10.0
    body_grace: float = 10.0
    body_min_rate: int = 16 * 1024


class ClientGone(Exception):
    """The client closed, stalled past the timeout, or broke the protocol (`status` is what to answer, if anything)."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class FileSpan:
    """`length` bytes of the file at `path` from `offset`, sent with sendfile."""

    path: str
    offset: int
    length: int

    def __len__(self) -> int:
        return self.length


@dataclass(frozen=True, slots=True)
class Stream:
    """A body produced while it is sent: `length` bytes (None: unknown, sent chunked) from `chunks`.

    If `chunks` raises, the connection is cut, so the client sees a short body, never a complete wrong one.
    """

    length: int | None
    chunks: Iterator[bytes]


@dataclass(slots=True)
class Response:
    """A status, headers and a body of bytes, a FileSpan or a Stream (headers only for HEAD)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | FileSpan | Stream = b""


class Body:
    """The request body, read from the socket as it is iterated."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        while not self.done:
            event = self._conn.next_event(expecting_body=True)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            else:
                self.done = True

    def read(self, limit: int) -> bytes | None:
        """The whole body, or None when it is longer than `limit` (then the rest is left unread)."""
        parts, size = [], 0
        for chunk in self:
            size += len(chunk)
            if size > limit:
                return None
            parts.append(chunk)
        return b"".join(parts)


@dataclass(slots=True)
class Request:
    """One parsed request; `body` streams from the connection."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Body
    scheme: str
    query_string: str = ""
    client: str = ""
    user: str | None = None  # set once authorized (None: anonymous)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def has_body(self) -> bool:
        return "transfer-encoding" in self.headers or self.headers.get("content-length", "0") != "0"


Handler = Callable[[Request], Response]


class Connection:
    """One client socket driven by an h11 state machine, with the deadlines of the request in progress."""

    def __init__(self, sock: socket.socket, scheme: str, deadlines: Deadlines = Deadlines(), client: str = "") -> None:
        self.sock = sock
        self.scheme = scheme
        self.client = client
        self.deadlines = deadlines
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_SIZE)
        self._idle_since = time.monotonic()
        self._header_started: float | None = None
        self._body_started = 0.0
        self._body_bytes = 0

    def _deadline(self, expecting_body: bool) -> tuple[float, str]:
        """When the read in progress must have happened by, and what is late if it has not."""
        limits = self.deadlines
        if expecting_body:
            if not limits.body_min_rate:
                return float("inf"), "body"
            return self._body_started + limits.body_grace + self._body_bytes / limits.body_min_rate, "body"
        if self._header_started is None:
            return self._idle_since + limits.idle, "idle"
        return self._header_started + limits.header, "headers"

    def _receive(self, expecting_body: bool) -> bytes:
        deadline, what = self._deadline(expecting_body)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ClientGone(f"request {what} too slow", 408)
        self.sock.settimeout(min(self.deadlines.read, remaining))
        try:
            data = self.sock.recv(RECV_SIZE)
        except TimeoutError:
            raise ClientGone(f"request {what} too slow", 408 if what != "idle" else 0) from None
        except OSError as exc:
            raise ClientGone(str(exc)) from None
        if expecting_body:
            self._body_bytes += len(data)
        elif data and self._header_started is None:
            self._header_started = time.monotonic()
        return data

    def next_event(self, expecting_body: bool = False) -> object:
        """The next h11 event, reading from the socket as needed. Raises ClientGone."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:  # a 4xx even for an unknown transfer coding (h11 hints 501)
                raise ClientGone(str(exc), exc.error_status_hint if exc.error_status_hint < 500 else 400) from None
            if event is not h11.NEED_DATA:
                return event
            if expecting_body and self.h11.they_are_waiting_for_100_continue:
                self.sock.sendall(self.h11.send(h11.InformationalResponse(status_code=100, headers=[])))
            data = self._receive(expecting_body)
            if not data and expecting_body:
                raise ClientGone("client closed mid-body")
            self.h11.receive_data(data)

    def request(self) -> Request | None:
        """The next request on this connection, or None when the client is done."""
        event = self.next_event()
        if not isinstance(event, h11.Request):
            return None
        size = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
        if size > MAX_HEADER_SIZE:  # h11 bounds only an incomplete head; one recv can bring a bigger whole one
            raise ClientGone("request header fields too large", 431)
        names = {key.lower() for key, _ in event.headers}
        if b"content-length" in names and b"transfer-encoding" in names:  # RFC 9112 6.1: a smuggling attempt
            raise ClientGone("both Content-Length and Transfer-Encoding", 400)
        self._body_started, self._body_bytes = time.monotonic(), 0
        target = urlsplit(event.target.decode("latin-1"))
        headers: dict[str, str] = {}
        for key, value in event.headers:
            k = key.decode("latin-1")
            headers[k] = f"{headers[k]}, {value.decode('latin-1')}" if k in headers else value.decode("latin-1")
        return Request(
            event.method.decode(),
            target.path,
            dict(parse_qsl(target.query, keep_blank_values=True)),
            headers,
            Body(self),
            self.scheme,
            target.query,
            self.client,
        )

    def respond(self, response: Response, head: bool) -> None:
        """Send a response; file bodies go out with sendfile, streams as they are produced."""
        body = response.body
        length = body.length if isinstance(body, Stream) else len(body)
        headers = [(k.encode(), v.encode("latin-1")) for k, v in response.headers]
        if response.status not in (204, 304) and length is not None:  # RFC 9110: no Content-Length on these
            headers.append((b"content-length", str(length).encode()))
        reason = HTTPStatus(response.status).phrase.encode()
        out = self.h11.send(h11.Response(status_code=response.status, headers=headers, reason=reason))
        if isinstance(body, Stream) and not head:
            self.sock.sendall(out)
            self._send_stream(body)
        elif head or not length:
            self.sock.sendall(out + self.h11.send(h11.EndOfMessage()))
        elif isinstance(body, FileSpan):
            self.sock.sendall(out)
            self.h11.send_with_data_passthrough(h11.Data(data=body))
            self._send_file(body)
            self.sock.sendall(self.h11.send(h11.EndOfMessage()))
        else:
            self.sock.sendall(out + self.h11.send(h11.Data(data=body)) + self.h11.send(h11.EndOfMessage()))

    def _send_file(self, span: FileSpan) -> None:
        """sendfile, cutting off (ClientGone) a client that reads slower than `body_min_rate` after
        `body_grace`: progress is what the client took, not what the kernel buffered for it."""
        started, sent = time.monotonic(), 0
        self.sock.settimeout(self.deadlines.read)  # a timeout makes the descriptor non-blocking
        with open(span.path, "rb") as src, selectors.DefaultSelector() as writable:
            writable.register(self.sock, selectors.EVENT_WRITE)
            while sent < span.length:
                remaining = self._send_deadline(started, sent - _unsent(self.sock)) - time.monotonic()
                if remaining <= 0:  # reset rather than close: the kernel would keep feeding its buffer to the client
                    self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    raise ClientGone("response read too slowly", 0)
                try:
                    count = self._send_some(src, span.offset + sent, span.length - sent)
                except BlockingIOError:
                    writable.select(min(remaining, 1.0))  # wake up to re-check the client's progress
                    continue
                if not count:
                    raise ClientGone(f"{span.path} is shorter than its span", 0)
                sent += count

    def _send_deadline(self, started: float, taken: int) -> float:
        limits = self.deadlines
        by_rate = started + limits.body_grace + taken / limits.body_min_rate if limits.body_min_rate else float("inf")
        return min(by_rate, time.monotonic() + limits.read)

    def _send_some(self, src: BinaryIO, offset: int, count: int) -> int:
        """One non-blocking sendfile (a send of one slice through TLS). Raises BlockingIOError when full."""
        if isinstance(self.sock, ssl.SSLSocket):
            src.seek(offset)
            return self.sock.send(src.read(min(count, SEND_SLICE)))  # SSLWantWriteError is a BlockingIOError
        return os.sendfile(self.sock.fileno(), src.fileno(), offset, count)

    def _send_stream(self, body: Stream) -> None:
        """Send each chunk as it comes; a failing producer cuts the connection (ClientGone)."""
        chunks = body.chunks
        try:
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except Exception as exc:  # the producer's failure, after the headers went out: cut the body short
                    raise ClientGone(f"response stream failed: {exc}", 0) from None
                self.sock.sendall(self.h11.send(h11.Data(data=chunk)))
            self.sock.sendall(self.h11.send(h11.EndOfMessage()))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def finish_cycle(self, body: Body) -> bool:
        """Drain a small unread body and get ready for the next request; False when the connection must close."""
        if not body.done and body.read(DRAIN_LIMIT) is None:
            return False
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            self._idle_since = time.monotonic()
            self._header_started = self._idle_since if self.h11.trailing_data[0] else None
            return True
        return False

    def refuse(self, exc: ClientGone) -> None:
        """Answer a broken request (its status) or a late one (408) when no response has started."""
        if self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        try:
            self.sock.settimeout(1.0)
            if exc.status >= 400 and (self.h11.their_state is h11.ERROR or self.h11.our_state is h11.SEND_RESPONSE):
                self.respond(error_response(exc.status), False)
            elif exc.status == 408:
                self.sock.sendall(TIMEOUT_RESPONSE)
            else:
                return
            self._linger()
        except (OSError, h11.LocalProtocolError):
            pass

    def _linger(self) -> None:
        """Read and drop what the client is still sending (briefly), so closing does not reset the
        connection and destroy the answer before the client reads it."""
        self.sock.shutdown(socket.SHUT_WR)
        self.sock.settimeout(0.5)
        deadline, dropped = time.monotonic() + 1.0, 0
        while time.monotonic() < deadline and dropped < DRAIN_LIMIT:
            data = self.sock.recv(RECV_SIZE)
            if not data:
                return
            dropped += len(data)


def _unsent(sock: socket.socket) -> int:
    """Bytes still in the socket's send queue (not yet acknowledged by the client)."""
    try:
        out = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except OSError:
        return 0
    return int.from_bytes(out, sys.byteorder, signed=True)


def error_response(status: int) -> Response:
    """A plain-text answer to a request too broken to route."""
    return Response(status, [("content-type", "text/plain")], f"{status}\n".encode())


def serve_connection(
    sock: socket.socket,
    handler: Handler,
    scheme: str,
    deadlines: Deadlines = Deadlines(),
    client: str = "",
    gate: threading.Semaphore | None = None,
) -> None:
    """Serve requests on one socket until the client leaves, breaks the protocol or misses a deadline.

    A request without a body is handled under `gate` (when given), so that a burst of hundreds of
    connections waits on a lock for a few handler slots instead of all contending for the GIL,
    which starves some of them for seconds. Requests with bodies stream outside it, and so do
    response bodies.
    """
    conn = Connection(sock, scheme, deadlines, client)
    try:
        while (request := conn.request()) is not None:
            if gate is not None and not request.has_body:
                with gate:
                    response = handler(request)
            else:
                response = handler(request)
            sock.settimeout(deadlines.read)
            conn.respond(response, request.method == "HEAD")
            if not conn.finish_cycle(request.body):
                return
    except ClientGone as exc:
        conn.refuse(exc)
    except (OSError, h11.LocalProtocolError):
        pass
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


class ThreadedServer:
    """Accepts connections and serves each in its own thread, at most `max_connections` at once."""

    def __init__(
        self,
        listener: socket.socket,
        handler: Handler,
        deadlines: Deadlines,
        max_connections: int,
        wrap: Callable[[socket.socket], socket.socket] | None = None,
        workers: int = 0,
    ) -> None:
        self.listener = listener
        self.handler = handler
        self.deadlines = deadlines
        self.gate = threading.Semaphore(workers) if workers else None
        self.wrap = wrap
        self.slots = threading.BoundedSemaphore(max_connections)
        self.stopping = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        return self.listener.getsockname()[:2]

    def _run(self, sock: socket.socket, client: str) -> None:
        try:
            sock.settimeout(self.deadlines.header)  # bounds the TLS handshake
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.wrap is not None:
                sock = self.wrap(sock)
            scheme = "https" if self.wrap else "http"
            serve_connection(sock, self.handler, scheme, self.deadlines, client, self.gate)
        except OSError:
            sock.close()
        finally:
            self.slots.release()

    def every(self, interval: float, task: Callable[[], object]) -> None:
        """Run `task` every `interval` seconds in a thread of its own until `shutdown()` (housekeeping)."""

        def loop() -> None:
            while not self.stopping.wait(interval):
                try:
                    task()
                except Exception:  # housekeeping must outlive one failed pass; the next one retries
                    traceback.print_exc(file=sys.stderr)

        threading.Thread(target=loop, name="housekeeping", daemon=True).start()

    def serve_forever(self) -> None:
        """Accept until `shutdown()`."""
        while not self.stopping.is_set():
            self.slots.acquire()
            try:
                sock, peer = self.listener.accept()
            except OSError:
                self.slots.release()
                if self.stopping.is_set():
                    return
                continue
            threading.Thread(target=self._run, args=(sock, peer[0]), daemon=True).start()

    def shutdown(self) -> None:
        self.stopping.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
