"""Layer compression: detect it from the first bytes, decompress and compress as streams.

    format   magic          reader                        writer
    plain    (anything)     the stream as is              -
    gzip     1f 8b          zlib-ng (multi-member)        gzip.GzipFile, mtime 0, no name
    zstd     28 b5 2f fd    zstandard (multi-frame)       zstandard
    bzip2    42 5a 68       bz2 (read only, as docker)    -
    xz       fd 37 7a 58 5a lzma (read only, as docker)   -

Decompressed data comes out in chunks of at most CHUNK bytes, so a small, highly
compressed layer cannot blow up memory. zstandard's bounded reader ends quietly on a
truncated frame, so a scanner of frame headers (zstdframes.py) watches its input. gzip is
read with zlib-ng, the zlib API at about twice zlib's speed on this kind of data (a pull's
main CPU cost; docs/decisions/0051); it writes with the standard library's zlib, whose output
stays byte for byte what earlier pushes made.
"""

from __future__ import annotations

import bz2
import enum
import gzip
import lzma
from collections.abc import Iterator
from typing import IO, Any, BinaryIO, cast

import zstandard
from zlib_ng import zlib_ng

from dockyard.archive.zstdframes import ZstdFrames
from dockyard.errors import InvalidArgument, NotSupported

CHUNK = 1 << 20
_INFLATE_ERROR = cast(type[Exception], zlib_ng.error)  # its stub declares an instance, not the class
_READ = 256 << 10
_HEAD = 6


class Compression(enum.Enum):
    PLAIN = "plain"
    GZIP = "gzip"
    ZSTD = "zstd"
    BZIP2 = "bzip2"
    XZ = "xz"


_MAGIC = (
    (b"\x1f\x8b", Compression.GZIP),
    (b"\x28\xb5\x2f\xfd", Compression.ZSTD),
    (b"BZh", Compression.BZIP2),
    (b"\xfd7zXZ\x00", Compression.XZ),
)


def detect(head: bytes) -> Compression:
    """Name the compression of a stream from its first (up to 6) bytes."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return Compression.PLAIN


def _new_decompressor(kind: Compression) -> Any:
    if kind is Compression.GZIP:
        return zlib_ng.decompressobj(16 + zlib_ng.MAX_WBITS)
    if kind is Compression.BZIP2:
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


def _feed_zlib(decompressor: Any, data: bytes) -> Iterator[bytes]:
    """A full chunk may leave output pending inside zlib, so ask again until one is short."""
    while not decompressor.eof:
        out = decompressor.decompress(data, CHUNK)
        yield out
        data = decompressor.unconsumed_tail
        if not data and len(out) < CHUNK:
            return


def _feed_buffered(decompressor: Any, data: bytes) -> Iterator[bytes]:
    """bz2 and lzma keep unread input inside; b"" drains it."""
    yield decompressor.decompress(data, CHUNK)
    while not decompressor.eof and not decompressor.needs_input:
        yield decompressor.decompress(b"", CHUNK)


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        more = stream.read(size - len(data))
        if not more:
            break
        data += more
    return data


class _Prefixed:
    """A reader that yields `head` before the rest of `stream` (undoing a peek)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        return self._stream.read(size)


def decompressed_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Yield the decompressed bytes of stream, whatever its (detected) compression.

    Raises:
        InvalidArgument: the compressed data is corrupt or truncated.
    """
    head = _read_exactly(stream, _HEAD)
    kind = detect(head)
    source = _Prefixed(head, stream)
    if kind is Compression.PLAIN:
        return _plain(source)
    if kind is Compression.ZSTD:
        return _zstd(source)
    return _inflate(source, kind)


def _plain(source: _Prefixed) -> Iterator[bytes]:
    while chunk := source.read(CHUNK):
        yield chunk


def _zstd(source: _Prefixed) -> Iterator[bytes]:
    frames = ZstdFrames()
    scanned = cast(IO[bytes], _Scanned(source, frames))  # zstandard calls only read()
    reader = zstandard.ZstdDecompressor().stream_reader(scanned, read_size=_READ, read_across_frames=True)
    try:
        while chunk := reader.read(CHUNK):
            yield chunk
    except zstandard.ZstdError as exc:
        raise InvalidArgument(f"invalid zstd layer: {exc}") from exc
    if not frames.complete():
        raise InvalidArgument("invalid zstd layer: unexpected EOF")


class _Scanned:
    """Shows every byte read to a ZstdFrames scanner (the reader cannot report a cut frame)."""

    def __init__(self, source: _Prefixed, frames: ZstdFrames) -> None:
        self._source = source
        self._frames = frames

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._frames.feed(data)
        return data


def _inflate(source: _Prefixed, kind: Compression) -> Iterator[bytes]:
    """Decompress gzip/bzip2/xz, member after member, in bounded chunks."""
    feed = _feed_zlib if kind is Compression.GZIP else _feed_buffered
    decompressor = _new_decompressor(kind)
    try:
        while data := source.read(_READ):
            while data:
                if decompressor.eof:
                    if detect(data[:_HEAD]) is not kind:
                        return  # padding after the last member is ignored, as gzip does
                    decompressor = _new_decompressor(kind)
                yield from filter(None, feed(decompressor, data))
                data = decompressor.unused_data if decompressor.eof else b""
    except (_INFLATE_ERROR, lzma.LZMAError, OSError, EOFError) as exc:
        raise InvalidArgument(f"invalid {kind.value} layer: {exc}") from exc
    if not decompressor.eof:
        raise InvalidArgument(f"invalid {kind.value} layer: unexpected EOF")


def compressed_writer(out: BinaryIO, kind: Compression, level: int | None = None) -> BinaryIO:
    """A writer that compresses into out (gzip or zstd); close() it to finish the stream.

    gzip output is reproducible: no file name and mtime 0, so equal tars give equal digests.
    """
    if kind is Compression.GZIP:
        level = 6 if level is None else level
        return cast(BinaryIO, gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=level))
    if kind is Compression.ZSTD:
        params = zstandard.ZstdCompressor(level=3 if level is None else level)
        return params.stream_writer(out, closefd=False)
    raise NotSupported(f"unsupported compression for writing: {kind.value}")
