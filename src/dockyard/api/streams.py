"""Pure encoders and decoders for what travels over the API's connections.

    multiplexed frame    [stream, 0, 0, 0, size (4 bytes, big endian)] + payload
                         stream: 0 stdin, 1 stdout, 2 stderr (podman libpod/oci.go HTTPAttach)
    JSON message stream  one JSON document per line (pull/push/load/import progress, events)
    chunked framing      "<hex size>\\r\\n<data>\\r\\n", ended by "0\\r\\n\\r\\n" (RFC 9112 7.1)

`ChunkedReader` decodes a chunked request body (the docker CLI streams build contexts
and `docker load` tars that way) from any binary file object.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from typing import BinaryIO

from dockyard.errors import InvalidArgument
from dockyard.multiplex import encode_frame

STDIN, STDOUT, STDERR = 0, 1, 2
_HEADER = struct.Struct(">BxxxL")
MAX_CHUNK_LINE = 4096
_HEX = re.compile(rb"[0-9a-fA-F]{1,15}")


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


def error_message(message: str) -> dict:
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


def chunk(data: bytes) -> bytes:
    """Frame one chunk of a chunked response body (empty data is not a valid chunk)."""
    if not data:
        raise ValueError("an empty chunk ends the body; use LAST_CHUNK")
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


class ChunkedReader:
    """Read a chunked transfer-coded body as plain bytes.

    Raises InvalidArgument on malformed framing; read() returns b"" once the last
    chunk and its trailers are consumed.
    """

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._left = 0
        self._done = False
        self._broken = False

    @property
    def done(self) -> bool:
        return self._done

    def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (all of the body when size < 0)."""
        if size < 0:
            return b"".join(iter(lambda: self.read(65536), b""))
        if self._done or size == 0:
            return b""
        if self._broken:
            raise InvalidArgument("malformed chunked request body")
        try:
            return self._read_some(size)
        except InvalidArgument:
            self._broken = True  # the framing is lost: nothing after this can be trusted
            raise

    def _read_some(self, size: int) -> bytes:
        if self._left == 0:
            self._left = self._next_size()
            if self._left == 0:
                self._finish()
                return b""
        data = self._source.read(min(size, self._left))
        if not data:
            raise InvalidArgument("unexpected EOF in chunked request body")
        self._left -= len(data)
        if self._left == 0:
            self._expect_crlf()
        return data

    def _line(self) -> bytes:
        line = self._source.readline(MAX_CHUNK_LINE + 1)
        if not line.endswith(b"\n"):
            raise InvalidArgument("malformed chunked request body: truncated line")
        return line.rstrip(b"\r\n")

    def _next_size(self) -> int:
        text = self._line().split(b";", 1)[0].strip()
        if not _HEX.fullmatch(text):
            raise InvalidArgument(f"malformed chunked request body: bad chunk size {text[:20]!r}")
        return int(text, 16)

    def _expect_crlf(self) -> None:
        if self._line() != b"":
            raise InvalidArgument("malformed chunked request body: missing CRLF after chunk")

    def _finish(self) -> None:
        while self._line() != b"":
            pass  # trailers carry nothing the API uses
        self._done = True


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
