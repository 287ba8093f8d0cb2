"""HTTP/1.1 chunked transfer coding (RFC 9112 7.1), both ways, over any buffered binary reader.

    chunk        "<hex size>[;ext]\\r\\n<data>\\r\\n"
    last chunk   "0\\r\\n", then trailer lines, then "\\r\\n"

The API server decodes request bodies with `ChunkedReader` (the docker CLI streams build
contexts and `docker load` tars that way) and frames its streamed responses with `chunk`;
the CLI decodes the daemon's streamed responses and frames its uploads with the same two.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs every CLI command ~3 ms at start-up
if TYPE_CHECKING:
    from typing import Protocol

    class Source(Protocol):
        """What a chunked body is read from: a buffered binary file, or the API's Connection.

        A source that also has `ahead() -> bytes` (what it holds already, got without waiting
        and left unconsumed) lets the reader decode the chunks it holds in one pass.
        """

        def read(self, size: int = -1, /) -> bytes: ...

        def readline(self, limit: int = -1, /) -> bytes: ...


MAX_CHUNK_LINE = 4096
SMALL_CHUNK = 8192  # after a chunk this small, the reader decodes the chunks already received
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")  # no regex: the CLI imports this at start-up


def chunk(data: bytes) -> bytes:
    """Frame one chunk of a chunked response body (empty data is not a valid chunk)."""
    if not data:
        raise ValueError("an empty chunk ends the body; use LAST_CHUNK")
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


def _chunk_size(line: bytes) -> int | None:
    """The size on a chunk-size line (extensions ignored); None if it is not plain hex."""
    text = line.split(b";", 1)[0].strip()
    if not 0 < len(text) <= 15 or not _HEX_DIGITS.issuperset(text):
        return None
    return int(text, 16)


class ChunkedReader:
    """Read a chunked transfer-coded body as plain bytes.

    Raises InvalidArgument on malformed framing or a body cut short ("... chunked <what>");
    read() returns b"" once the last chunk and its trailers are consumed.
    """

    def __init__(self, source: Source, what: str = "request body") -> None:
        self._source = source
        self._what = what
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
            raise InvalidArgument(f"malformed chunked {self._what}")
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
            raise InvalidArgument(f"unexpected EOF in chunked {self._what}")
        self._left -= len(data)
        if self._left == 0:
            self._expect_crlf()
            if len(data) < min(size, SMALL_CHUNK) and (more := self._held_chunks(size - len(data))):
                data += more
        return data

    def _held_chunks(self, want: int) -> bytes:
        """The data of whole chunks the source already holds (`want` bytes at most).

        The docker CLI sends each tar header and small file of `cp` as a chunk of its own;
        decoding what a receive brought in one pass keeps such a body cheap (large chunks
        are not worth the look). Anything but a whole, well-formed data chunk is left to the
        line-by-line path (and its errors).
        """
        ahead = getattr(self._source, "ahead", None)
        raw = ahead() if ahead is not None else b""
        pieces, pos, got = [], 0, 0
        while got < want:
            end = raw.find(b"\r\n", pos, pos + MAX_CHUNK_LINE)
            size = _chunk_size(raw[pos:end]) if end >= 0 else None
            if not size or got + size > want or raw[end + 2 + size : end + 4 + size] != b"\r\n":
                break  # the last chunk, one too big for this read, a partial or a malformed one
            pieces.append(raw[end + 2 : end + 2 + size])
            got += size
            pos = end + 4 + size
        if pos:
            self._source.read(pos)
        return b"".join(pieces)

    def _line(self) -> bytes:
        line = self._source.readline(MAX_CHUNK_LINE + 1)
        if not line.endswith(b"\n"):
            raise InvalidArgument(f"malformed chunked {self._what}: truncated line")
        return line.rstrip(b"\r\n")

    def _next_size(self) -> int:
        line = self._line()
        size = _chunk_size(line)
        if size is None:
            text = line.split(b";", 1)[0].strip()
            raise InvalidArgument(f"malformed chunked {self._what}: bad chunk size {text[:20]!r}")
        return size

    def _expect_crlf(self) -> None:
        if self._line() != b"":
            raise InvalidArgument(f"malformed chunked {self._what}: missing CRLF after chunk")

    def _finish(self) -> None:
        while self._line() != b"":
            pass  # trailers carry nothing the API uses
        self._done = True
