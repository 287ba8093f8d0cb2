"""Attach streams: a shim socket behind the AttachStream shape the API splices to a client.

`docker run` attaches before it starts the container, when no shim exists yet; such an
attach waits in `PendingAttaches` and is connected to the shim between the runtime's
create and start, so not a byte of output is missed.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass


class SocketStream:
    """An AttachStream over a connected socket."""

    def __init__(self, sock: socket.socket, tty: bool) -> None:
        self.sock, self.tty = sock, tty

    def recv(self, size: int) -> bytes:
        try:
            return self.sock.recv(size)
        except OSError:
            return b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_stdin(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        """Shut the socket first: that wakes a recv() blocked in another thread."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


@dataclass(frozen=True, slots=True)
class DeferredStream:
    """A stream that is opened, and its process started, only when the API says the client is
    ready: after the upgrade headers have gone out, so no output can travel with them (a client's
    HTTP parser would swallow it); dockerd starts an attached exec at the same point."""

    tty: bool
    open: Callable[[], SocketStream]
    detach_keys: bytes = b""  # the sequence that ends the attach on a TTY (detachkeys.py)


class PendingStream:
    """An AttachStream whose socket arrives when the container starts (EOF if it never does)."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._stream: SocketStream | None = None
        self._stdin_closed = False  # the client closed stdin before the socket arrived

    def connect(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._stream = SocketStream(sock, self.tty) if sock else None
            if self._stream and self._stdin_closed:
                self._stream.close_stdin()
            self._ready.set()

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def _wait(self) -> SocketStream | None:
        self._ready.wait()
        return self._stream

    def recv(self, size: int) -> bytes:
        stream = self._wait()
        return stream.recv(size) if stream else b""

    def send(self, data: bytes) -> None:
        stream = self._wait()
        if stream:
            stream.send(data)

    def close_stdin(self) -> None:
        """Never blocks: before the socket arrives, closing is remembered and applied on connect."""
        with self._lock:
            if not self._ready.is_set():
                self._stdin_closed = True
                return
        if self._stream:
            self._stream.close_stdin()

    def close(self) -> None:
        if not self._ready.is_set():
            self.connect(None)
        elif self._stream:
            self._stream.close()


class PendingAttaches:
    """Attachers waiting for containers to start, keyed by container ID."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[tuple[PendingStream, tuple[bool, bool, bool]]]] = {}

    def add(self, container_id: str, tty: bool, streams: tuple[bool, bool, bool]) -> PendingStream:
        pending = PendingStream(tty)
        with self._lock:
            self._waiting.setdefault(container_id, []).append((pending, streams))
        return pending

    def waiting(self, container_id: str) -> bool:
        """Whether an attacher waits for this container's start."""
        with self._lock:
            return bool(self._waiting.get(container_id))

    def connect_all(self, container_id: str, attach: Callable[[bool, bool, bool], socket.socket]) -> None:
        """Hand each waiting attacher its socket to the started shim."""
        with self._lock:
            waiting = self._waiting.pop(container_id, [])
        try:
            for pending, (stdin, stdout, stderr) in waiting:
                pending.connect(attach(stdin, stdout, stderr))
        finally:  # one failed attach must not leave the others waiting forever
            for pending, _ in waiting:
                if not pending.connected:
                    pending.connect(None)

    def cancel(self, container_id: str) -> None:
        with self._lock:
            waiting = self._waiting.pop(container_id, [])
        for pending, _ in waiting:
            pending.connect(None)


class ReplayStream:
    """An AttachStream that first gives `replay` (the logged output, already framed), then
    what `live` gives; with no `live` stream (attach with stream=0) it ends after the replay."""

    def __init__(self, replay: bytes, live, tty: bool) -> None:
        self.tty, self._replay, self._live = tty, replay, live

    def recv(self, size: int) -> bytes:
        if self._replay:
            data, self._replay = self._replay[:size], self._replay[size:]
            return data
        return self._live.recv(size) if self._live else b""

    def send(self, data: bytes) -> None:
        if self._live:
            self._live.send(data)

    def close_stdin(self) -> None:
        if self._live:
            self._live.close_stdin()

    def close(self) -> None:
        if self._live:
            self._live.close()
