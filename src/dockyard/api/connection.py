"""One client connection: its socket, the bytes read ahead of the current request, deadlines.

The selector loop (server.py) fills `buffer` until a request head is complete; a worker
then reads the body through `Connection` itself (read, read1, readline, as a buffered
file would), with a deadline per read: no read waits more than `Limits.body_idle`, and
after `Limits.body_grace` the body must have come at `Limits.body_min_rate` bytes per
second on average, so a trickling client is cut off instead of holding a worker.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from dockyard.errors import InvalidArgument

RECV_SIZE = 256 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """What one connection may cost: time to send a head or a body, bytes of head, idle time."""

    head_timeout: float = 60.0  # from the first byte of a request to the end of its head
    idle_timeout: float = 300.0  # a keep-alive connection with no request in progress
    body_idle: float = 60.0  # the longest wait for any byte of a body
    body_grace: float = 30.0  # after this, the body must keep `body_min_rate`
    body_min_rate: float = 1024.0  # bytes per second, averaged since the head
    write_timeout: float = 120.0  # the longest wait for a client to take a full response
    max_head: int = 64 * 1024


DEFAULT_LIMITS = Limits()


class BodyTimeout(InvalidArgument):
    """The client did not send its request body in time."""


class Connection:
    """A client socket plus read-ahead; file-like reads for the body (blocking, with deadlines)."""

    def __init__(self, sock: socket.socket, limits: Limits) -> None:
        self.sock = sock
        self.limits = limits
        self.buffer = bytearray()
        self.deadline = time.monotonic() + limits.idle_timeout
        self._body_start = 0.0
        self._body_read = 0
        self._unbounded = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def start_body(self) -> None:
        """Start the body clock: called when a worker takes the request."""
        self._body_start = time.monotonic()
        self._body_read = 0
        self._unbounded = False

    def lift_deadlines(self) -> None:
        """Let reads wait for as long as it takes: a hijacked session's stdin may idle for hours."""
        self._unbounded = True

    def read(self, size: int = -1) -> bytes:
        """Read `size` bytes, fewer only at EOF (all until EOF when size < 0)."""
        if size < 0:
            return b"".join(iter(lambda: self.read(RECV_SIZE), b""))
        while len(self.buffer) < size and self._fill():
            pass
        return self._take(size)

    def read1(self, size: int = -1) -> bytes:
        """Read what is buffered, or what one receive brings (b"" at EOF)."""
        if not self.buffer:
            self._fill()
        return self._take(len(self.buffer) if size < 0 else size)

    def ahead(self) -> bytes:
        """What is buffered already, without waiting for more or consuming it."""
        return bytes(self.buffer)

    def readline(self, limit: int = -1) -> bytes:
        """Read up to and including b"\\n", at most `limit` bytes."""
        start = 0
        while True:
            found = self.buffer.find(b"\n", start)
            if found >= 0:
                return self._take(found + 1 if limit < 0 else min(found + 1, limit))
            if 0 <= limit <= len(self.buffer):
                return self._take(limit)
            start = len(self.buffer)
            if not self._fill():
                return self._take(len(self.buffer))

    def _take(self, size: int) -> bytes:
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _fill(self) -> bool:
        """Receive once into the buffer, within the body deadlines; False at EOF."""
        self.sock.settimeout(self._wait())
        try:
            data = self.sock.recv(RECV_SIZE)
        except TimeoutError:
            raise BodyTimeout("timed out reading the request body") from None
        self._body_read += len(data)
        self.buffer += data
        return bool(data)

    def _wait(self) -> float | None:
        limits = self.limits
        if self._unbounded:
            return None
        if not self._body_start:
            return limits.body_idle
        elapsed = time.monotonic() - self._body_start
        deadline = max(limits.body_grace, self._body_read / limits.body_min_rate)
        left = deadline - elapsed
        if left <= 0:
            raise BodyTimeout("timed out reading the request body (too slow)")
        return min(limits.body_idle, left)

    def send(self, data: bytes, timeout: float | None) -> None:
        """Send all of `data`, waiting at most `timeout` seconds in all (None: no limit)."""
        self.sock.settimeout(timeout)
        self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
