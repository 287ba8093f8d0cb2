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

from dockyard.api.backend import AttachStream

log = logging.getLogger(__name__)
BUFSIZE = 32 * 1024
STDIN_JOIN_TIMEOUT = 5.0


def copy_stdin(reader: BinaryIO, stream: AttachStream) -> None:
    """Forward what the client sends to the process's stdin until the client stops writing."""
    try:
        while data := reader.read1(BUFSIZE):
            stream.send(data)
    except Exception as exc:  # noqa: BLE001 - a closed process stdin ends the copy, nothing more
        log.debug("attach: stdin copy ended: %s", exc)
    finally:
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


def splice(reader: BinaryIO, sock: socket.socket, stream: AttachStream) -> None:
    """Run both copies; return once the output has ended and the connection is shut.

    `reader` is the connection's buffered reader: bytes the client sent right after the
    request headers may already sit in its buffer.
    """
    stdin = threading.Thread(target=copy_stdin, args=(reader, stream), daemon=True, name="attach-stdin")
    stdin.start()
    try:
        copy_output(stream, sock)
    finally:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        stdin.join(STDIN_JOIN_TIMEOUT)
        stream.close()
