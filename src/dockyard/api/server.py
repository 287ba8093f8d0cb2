"""The HTTP/1.1 server on a unix socket: a selector for idle connections, a bounded pool for requests.

Why this model: docs/decisions/0042-api-serving-model.md.

    accept ──> selector loop ──(complete head)──> worker pool (bounded) ──> Exchange.run()
                  ▲   idle keep-alive and partial heads wait here,      │ short answer: the
                  │   each with a deadline; they cost no thread         │ connection comes back
                  └─────────────────────────────────────────────────────┘
                      a stream or hijack detaches its worker from the pool, so long
                      streams never use up the workers that answer short requests;
                      a ping is answered by the loop itself when its answer cannot block

The listen backlog is the kernel's maximum (net.core.somaxconn). A head must arrive
within `Limits.head_timeout` and fit `Limits.max_head` bytes; bodies are read by the
worker with their own deadlines (connection.py).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import resource
import selectors
import socket
import stat
import threading
import time
from collections import deque
from contextlib import suppress
from pathlib import Path

from dockyard.api.backend import Backends
from dockyard.api.connection import DEFAULT_LIMITS, Connection, Limits
from dockyard.api.exchange import Exchange, error_answer, unread_bytes
from dockyard.api.http1 import Head, HeadError, head_end, parse_head
from dockyard.api.pool import WorkerPool
from dockyard.api.routers import build_router
from dockyard.api.routing import Router
from dockyard.errors import Conflict, InvalidArgument
from dockyard.paths import DEFAULT_SOCKET

log = logging.getLogger(__name__)

SOCKET_MODE = 0o660
WORKERS = 64
MAX_CONNECTIONS = 16384
SOMAXCONN = Path("/proc/sys/net/core/somaxconn")
_LISTENER, _WAKE = object(), object()
_PING = re.compile(r"(/v[0-9.]+)?/_ping(\?.*)?")  # a target the loop answers itself (_serve_here)


class ApiServer:
    """The Docker Engine API on a unix socket, serving `backends`.

    The socket is bound (mode 0660, replacing a stale socket file) and listening when the
    object is built, so clients can connect as soon as it exists; serve_forever() answers
    them. Raises Conflict when another server is already listening on `socket_path`.
    """

    def __init__(
        self,
        backends: Backends,
        socket_path: str | Path = DEFAULT_SOCKET,
        limits: Limits = DEFAULT_LIMITS,
        workers: int = WORKERS,
    ) -> None:
        self.socket_path = Path(socket_path)
        self.limits = limits
        self._router: Router = build_router(backends)
        self._pool = WorkerPool(workers, "api-worker")
        self._listener = _listen(self.socket_path)
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._resumed: deque[Connection] = deque()
        self._idle: set[Connection] = set()
        self._count = 0  # open client connections, idle or busy
        self._count_lock = threading.Lock()
        self._accepting = False
        self._resume_accept_at = 0.0
        self._serving = threading.Event()
        self._stopped = threading.Event()
        self._closed = False
        raise_fd_limit()

    def serve_forever(self) -> None:
        """Answer requests until shutdown() is called from another thread."""
        if self._closed:
            return
        self._serving.set()
        try:
            self._loop()
        finally:
            self._teardown()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop accepting, close idle connections and remove the socket; open streams end with their clients."""
        if self._closed:
            return
        self._closed = True
        if self._serving.is_set():
            self._wake()
            self._stopped.wait(10)
        else:
            self._teardown()

    # -- the selector loop ------------------------------------------------------------------

    def _loop(self) -> None:
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
        self._set_accepting(True)
        while not self._closed:
            for key, _ in self._selector.select(timeout=0.5):
                if key.data is _LISTENER:
                    self._accept()
                elif key.data is _WAKE:
                    self._take_resumed()
                else:
                    self._readable(key.data)
            self._expire(time.monotonic())

    def _set_accepting(self, on: bool) -> None:
        if on and not self._accepting:
            self._selector.register(self._listener, selectors.EVENT_READ, _LISTENER)
        elif not on and self._accepting:
            self._selector.unregister(self._listener)
        self._accepting = on

    def _accept(self) -> None:
        for _ in range(128):
            try:
                sock, _ = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("cannot accept API connections for now: %s", exc)
                    self._pause_accepting()
                    return
                raise
            sock.setblocking(False)
            with self._count_lock:
                self._count += 1
            self._watch(Connection(sock, self.limits))
            if self._count >= MAX_CONNECTIONS:
                self._pause_accepting()
                return

    def _pause_accepting(self) -> None:
        """Leave new connections in the backlog until a connection closes (or 0.1 s passes)."""
        self._set_accepting(False)
        self._resume_accept_at = time.monotonic() + 0.1

    def _watch(self, conn: Connection) -> None:
        """Wait for the next request head on `conn` without holding a thread."""
        now = time.monotonic()
        conn.deadline = now + (self.limits.head_timeout if conn.buffer else self.limits.idle_timeout)
        self._idle.add(conn)
        self._selector.register(conn.sock, selectors.EVENT_READ, conn)
        if conn.buffer:
            self._parse(conn)

    def _readable(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        if not conn.buffer:
            conn.deadline = time.monotonic() + self.limits.head_timeout
        conn.buffer += data
        self._parse(conn, len(conn.buffer) - len(data))

    def _parse(self, conn: Connection, searched: int = 0) -> None:
        end = head_end(conn.buffer, searched)
        if end < 0:
            if len(conn.buffer) > self.limits.max_head:
                self._refuse(conn, HeadError(431, "request header fields too large"))
            return
        self._forget(conn)
        self._dispatch(conn, end)

    def _dispatch(self, conn: Connection, end: int) -> None:
        """Hand a connection whose buffer starts with a complete head to a worker."""
        try:
            if end > self.limits.max_head:
                raise HeadError(431, "request header fields too large")
            head = parse_head(bytes(conn.buffer[:end]))
        except HeadError as exc:
            self._answer_and_close(conn, exc)
            return
        del conn.buffer[:end]
        if _answered_here(head) and not unread_bytes(conn.sock):  # the answer cannot block
            self._serve_here(conn, head)
        else:
            self._pool.submit(lambda: self._work(conn, head))

    def _serve_here(self, conn: Connection, head: Head) -> None:
        """Answer a ping in the loop itself: every docker CLI command starts with one, and a
        worker's wake-up is most of its time. Nothing in it blocks: no body to read, one small
        answer written into the connection's empty send buffer."""
        exchange = Exchange(conn, head, self._router, lambda: None)
        exchange.run()
        with suppress(OSError):
            conn.sock.setblocking(False)  # the answer was sent with a timeout
        if not exchange.keep_alive or self._closed:
            self._close(conn)
        else:
            self._watch(conn)  # a request the client sent behind it is dispatched from here

    def _refuse(self, conn: Connection, exc: HeadError) -> None:
        self._forget(conn)
        self._answer_and_close(conn, exc)

    def _answer_and_close(self, conn: Connection, exc: HeadError) -> None:
        with suppress(OSError):
            conn.sock.setblocking(False)
            conn.sock.send(error_answer(exc.status, str(exc)))
        self._close(conn)

    def _expire(self, now: float) -> None:
        if not self._accepting and now >= self._resume_accept_at and self._count < MAX_CONNECTIONS:
            self._set_accepting(True)
        for conn in [c for c in self._idle if c.deadline <= now]:
            self._drop(conn)

    def _forget(self, conn: Connection) -> None:
        self._idle.discard(conn)
        self._selector.unregister(conn.sock)

    def _drop(self, conn: Connection) -> None:
        self._forget(conn)
        self._close(conn)

    def _close(self, conn: Connection) -> None:
        conn.close()
        with self._count_lock:
            self._count -= 1

    # -- workers ----------------------------------------------------------------------------

    def _work(self, conn: Connection, head: Head) -> None:
        """Serve requests on `conn` while they are already buffered; then give it back to the loop."""
        while True:
            exchange = Exchange(conn, head, self._router, self._pool.detach)
            exchange.run()
            if not exchange.keep_alive or self._closed:
                self._close(conn)
                return
            end = head_end(conn.buffer)
            if end < 0 or end > self.limits.max_head:
                break
            try:
                head = parse_head(bytes(conn.buffer[:end]))
            except HeadError as exc:
                self._answer_and_close(conn, exc)
                return
            del conn.buffer[:end]
        self._resume(conn)

    def _resume(self, conn: Connection) -> None:
        """Give a connection back to the selector loop (from a worker thread)."""
        with suppress(OSError):
            conn.sock.setblocking(False)
        self._resumed.append(conn)
        self._wake()

    def _wake(self) -> None:
        with suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    def _take_resumed(self) -> None:
        with suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass
        while self._resumed:
            self._watch(self._resumed.popleft())

    def _teardown(self) -> None:
        self._pool.shutdown()
        for conn in list(self._idle):
            self._drop(conn)
        while self._resumed:
            self._close(self._resumed.popleft())
        with suppress(KeyError, ValueError):
            self._set_accepting(False)
        self._selector.close()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        with suppress(FileNotFoundError):
            self.socket_path.unlink()


def backlog() -> int:
    """The kernel's maximum listen backlog (net.core.somaxconn)."""
    try:
        return max(128, int(SOMAXCONN.read_text()))
    except (OSError, ValueError):
        return socket.SOMAXCONN


def raise_fd_limit() -> None:
    """Raise this process's open-file limit to its hard limit: each connection holds a descriptor."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _listen(path: Path) -> socket.socket:
    """Bind and listen on `path` (mode 0660), replacing a stale socket file."""
    _clear_stale_socket(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
    except BaseException:
        sock.close()
        raise
    try:
        os.chmod(path, SOCKET_MODE)
        sock.listen(backlog())
        sock.setblocking(False)
    except BaseException:
        sock.close()
        path.unlink(missing_ok=True)
        raise
    return sock


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


def _answered_here(head: Head) -> bool:
    """A ping without a body (what the loop answers itself)."""
    if head.method not in ("GET", "HEAD") or head.chunked or not _PING.fullmatch(head.target):
        return False
    try:
        return head.content_length == 0
    except ValueError:
        return False
