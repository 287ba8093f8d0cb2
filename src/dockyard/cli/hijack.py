"""Shuttle bytes over a hijacked attach/exec connection: stdin up, stdout/stderr down.

With a TTY the stream is raw; without one it is the 8-byte-header framing and is
demultiplexed to our stdout and stderr. Ctrl-P Ctrl-Q on a TTY detaches.
"""

from __future__ import annotations

import os
import socket

from dockyard import detachkeys
from dockyard.multiplex import STDERR, FrameDecoder


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Session:
    """One hijacked connection; `run()` returns 'eof' when the stream ends, 'detached' on the detach keys."""

    def __init__(
        self,
        sock: socket.socket,
        reader,
        tty: bool,
        stdin: bool,
        detach_keys: bytes = detachkeys.DEFAULT,
        stdin_fd: int = 0,
        stdout_fd: int = 1,
        stderr_fd: int = 2,
    ) -> None:
        self.sock, self.reader, self.tty, self.stdin = sock, reader, tty, stdin
        self.detach_keys = detach_keys
        self.fds = (stdin_fd, stdout_fd, stderr_fd)
        self.detached = False

    def run(self) -> str:
        if self.stdin:
            import threading  # only sessions with stdin need the pump thread

            threading.Thread(target=self._send_stdin, daemon=True).start()
        decoder = None if self.tty else FrameDecoder()
        try:
            while True:
                data = self.reader.read1(65536)
                if not data:
                    break
                self._emit(decoder, data)
        except OSError:
            if not self.detached:
                raise
        return "detached" if self.detached else "eof"

    def _emit(self, decoder: FrameDecoder | None, data: bytes) -> None:
        if decoder is None:
            write_all(self.fds[1], data)
            return
        for stream, payload in decoder.feed(data):
            write_all(self.fds[2] if stream == STDERR else self.fds[1], payload)

    def _send_stdin(self) -> None:
        scanner = detachkeys.Scanner(self.detach_keys) if self.tty and self.detach_keys else None
        try:
            while True:
                data = os.read(self.fds[0], 4096)
                if not data:
                    break
                if scanner:
                    data, self.detached = scanner.feed(data)
                    if self.detached:
                        self.sock.shutdown(socket.SHUT_RDWR)
                        return
                if data:
                    self.sock.sendall(data)
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return
