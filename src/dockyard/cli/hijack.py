"""Shuttle bytes over a hijacked attach/exec connection: stdin up, stdout/stderr down.

With a TTY the stream is raw; without one it is the 8-byte-header framing and is
demultiplexed to our stdout and stderr. Ctrl-P Ctrl-Q on a TTY detaches.
"""

from __future__ import annotations

import os
import socket

from dockyard.errors import InvalidArgument
from dockyard.multiplex import STDERR, FrameDecoder

DETACH_KEYS = b"\x10\x11"
_CTRL_SPECIAL = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def parse_detach_keys(spec: str | None) -> bytes:
    """'ctrl-p,ctrl-q' -> b'\\x10\\x11' (docker's --detach-keys syntax)."""
    if not spec:
        return DETACH_KEYS
    keys = bytearray()
    for key in spec.split(","):
        key = key.strip().lower()
        if key.startswith("ctrl-") and len(key) == 6 and (key[5].isalpha() or key[5] in _CTRL_SPECIAL):
            keys.append(ord(key[5]) - ord("a") + 1 if key[5].isalpha() else _CTRL_SPECIAL[key[5]])
        elif len(key) == 1:
            keys.append(ord(key))
        else:
            raise InvalidArgument(f"Unknown character: '{key}'")
    return bytes(keys)


class Session:
    """One hijacked connection; `run()` returns 'eof' when the stream ends, 'detached' on the detach keys."""

    def __init__(
        self,
        sock: socket.socket,
        reader,
        tty: bool,
        stdin: bool,
        detach_keys: bytes = DETACH_KEYS,
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
        matched = 0
        try:
            while True:
                data = os.read(self.fds[0], 4096)
                if not data:
                    break
                if self.tty and self.detach_keys:
                    data, matched = self._scan_detach(data, matched)
                    if self.detached:
                        self.sock.shutdown(socket.SHUT_RDWR)
                        return
                if data:
                    self.sock.sendall(data)
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return

    def _scan_detach(self, data: bytes, matched: int) -> tuple[bytes, int]:
        """Hold back a partial detach sequence; flag a complete one."""
        out = bytearray()
        keys = self.detach_keys
        for byte in data:
            if byte == keys[matched]:
                matched += 1
                if matched == len(keys):
                    self.detached = True
                    return bytes(out), 0
                continue
            out += keys[:matched]
            matched = 0
            if byte == keys[0]:
                matched = 1
            else:
                out.append(byte)
        return bytes(out), matched
