"""Splice a hijacked client connection with an AttachStream, both ways.

client -> stream.send()       in a helper thread; client EOF (half-close) -> close_stdin()
stream.recv() -> client       in the calling thread; stream EOF -> the connection is shut
"""

from __future__ import annotations

import logging
import socket
import threading
from contextlib import suppress
from typing import BinaryIO

from dockyard import detachkeys
from dockyard.api.backend import AttachStream
from dockyard.multiplex import STDOUT, encode_frame

log = logging.getLogger(__name__)
BUFSIZE = 32 * 1024
STDIN_JOIN_TIMEOUT = 5.0


class TextStream:
    """An AttachStream that gives `data` as its stdout (framed unless tty), then ends."""

    def __init__(self, data: bytes, tty: bool) -> None:
        self.tty = tty
        self._data = data if tty else encode_frame(STDOUT, data)

    def recv(self, size: int) -> bytes:
        data, self._data = self._data[:size], self._data[size:]
        return data

    def send(self, data: bytes) -> None:
        """Input to a stream that runs nothing is dropped."""

    def close_stdin(self) -> None:
        pass

    def close(self) -> None:
        pass


def copy_stdin(reader: BinaryIO, stream: AttachStream, detach_keys: bytes = b"") -> None:
    """Forward what the client sends to the process's stdin until the client stops writing
    (then close that stdin); on a TTY, the detach keys end the attach instead and leave the
    process and its stdin as they are."""
    scanner = detachkeys.Scanner(detach_keys) if detach_keys and stream.tty else None
    try:
        while data := reader.read1(BUFSIZE):
            detached = False
            if scanner:
                data, detached = scanner.feed(data)
            if data:
                stream.send(data)
            if detached:
                stream.close()  # wakes copy_output, which then shuts the client's connection
                return
    except Exception as exc:  # noqa: BLE001 - a closed process stdin ends the copy, nothing more
        log.debug("attach: stdin copy ended: %s", exc)
    try:
        stream.close_stdin()
    except Exception:  # noqa: BLE001 - the stream may already be closed; nothing to undo
        log.debug("attach: close_stdin failed", exc_info=True)


def copy_output(stream: AttachStream, sock: socket.socket) -> None:
    """Forward the stream's output to the client until the stream ends or the client goes."""
    try:
        while data := stream.recv(BUFSIZE):
            sock.sendall(data)
    except OSError as exc:
        log.debug("attach: output copy ended: %s", exc)


def splice(reader: BinaryIO, sock: socket.socket, stream: AttachStream, detach_keys: bytes = b"") -> None:
    """Run both copies; return once the output has ended and the connection is shut.

    `reader` is the connection's buffered reader: bytes the client sent right after the
    request headers may already sit in its buffer.
    """
    stdin = threading.Thread(target=copy_stdin, args=(reader, stream, detach_keys), daemon=True, name="attach-stdin")
    stdin.start()
    try:
        copy_output(stream, sock)
    finally:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        stdin.join(STDIN_JOIN_TIMEOUT)
        stream.close()
