"""Pure encoders and decoders for what travels over the API's connections.

    multiplexed frame    [stream, 0, 0, 0, size (4 bytes, big endian)] + payload
                         stream: 0 stdin, 1 stdout, 2 stderr (podman libpod/oci.go HTTPAttach)
    JSON message stream  one JSON document per line (pull/push/load/import progress, events)

`LengthReader` reads a Content-Length request body; chunked ones are dockyard.chunked's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from dockyard.errors import InvalidArgument
from dockyard.multiplex import encode_frame

STDIN, STDOUT, STDERR = 0, 1, 2


def mux_frames(chunks: Iterator[tuple[int, bytes]]) -> Iterator[bytes]:
    """Frame every (stream, bytes) pair, skipping empty payloads."""
    for stream, data in chunks:
        if data:
            yield encode_frame(stream, data)


def raw_frames(chunks: Iterator[tuple[int, bytes]]) -> Iterator[bytes]:
    """Drop the stream ids: a TTY has one undivided output."""
    for _stream, data in chunks:
        if data:
            yield data


def json_line(message: object) -> bytes:
    """Encode one message of a JSON stream, newline-terminated as dockerd does."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def error_message(message: str) -> dict[str, Any]:
    """The progress-stream shape of an error raised mid-stream."""
    return {"errorDetail": {"message": message}, "error": message}


def json_lines(messages: Iterator[object]) -> Iterator[bytes]:
    """Encode a message stream; an exception after the first message becomes an error line."""
    messages = iter(messages)
    try:
        first = next(messages)
    except StopIteration:
        return
    yield json_line(first)
    try:
        for message in messages:
            yield json_line(message)
    except Exception as exc:  # noqa: BLE001 - headers are sent; the stream is the only channel left
        yield json_line(error_message(str(exc)))


class LengthReader:
    """Read exactly Content-Length bytes of a body, never past it."""

    def __init__(self, source: BinaryIO, length: int) -> None:
        self._source = source
        self._left = length

    @property
    def done(self) -> bool:
        return self._left == 0

    def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (the rest of the body when size < 0)."""
        if size < 0:
            return b"".join(iter(lambda: self.read(65536), b""))
        size = min(size, self._left)
        if size == 0:
            return b""
        data = self._source.read(size)
        if not data:
            raise InvalidArgument("unexpected EOF in request body")
        self._left -= len(data)
        return data
