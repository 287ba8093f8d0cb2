"""A fast reader of build-context tars: headers decoded with slices, data handed on in pieces.

A context of a few thousand small files is mostly headers, and docker's CLI writes plain
ustar ones (PAX only for long names); decoding those by slicing keeps a cached build's
cost near the cost of reading the bytes. Anything unusual (GNU long names, PAX records,
base-256 numbers) goes through archive.tarformat, the project's one full decoder.

    for header in read_members(chunks):         # TarHeader, overrides applied
        for piece in header.data: ...           # exactly header.size bytes, then padding skipped
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dockyard.archive.tarformat import (
    BLOCK,
    ZERO_BLOCK,
    EntryType,
    MetaType,
    apply_pax,
    decode_header,
    decode_text,
    padded,
    parse_pax,
)
from dockyard.errors import InvalidArgument

_PIECE = 1 << 20
_MAX_META = 1 << 20
_FAST_TYPES = {b"0": EntryType.REGULAR, b"\0": EntryType.REGULAR, b"5": EntryType.DIRECTORY}
_FAST_TYPES |= {b"2": EntryType.SYMLINK, b"1": EntryType.HARDLINK}


@dataclass(slots=True)
class TarHeader:
    name: str
    type: EntryType
    mode: int
    size: int
    mtime: int
    linkname: str
    data: Iterator[bytes]


class _Bytes:
    """Exact-size reads over an iterable of chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self._position = 0

    def read(self, size: int) -> bytes:
        """Up to `size` bytes (fewer only at the end of the stream)."""
        end = self._position + size
        if end <= len(self._buffer):
            piece = self._buffer[self._position : end]
            self._position = end
            return piece
        parts = [self._buffer[self._position :]]
        have = len(parts[0])
        self._buffer, self._position = b"", 0
        while have < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            take = min(len(chunk), size - have)
            parts.append(chunk[:take])
            have += take
            if take < len(chunk):
                self._buffer, self._position = bytes(chunk), take
        return b"".join(parts)

    def skip(self, size: int) -> None:
        while size:
            got = len(self.read(min(size, _PIECE)))
            if not got:
                raise InvalidArgument("invalid tar: unexpected EOF")
            size -= got

    def drain(self) -> None:
        for _ in self._chunks:
            pass


def _octal(field: bytes) -> int:
    text = field.strip(b" \0")
    return int(text, 8) if text else 0


def _fast(block: bytes) -> TarHeader | None:
    """Decode a plain ustar/GNU header of a common type; None when the full decoder is needed."""
    kind = _FAST_TYPES.get(block[156:157])
    if kind is None or block[124] & 0x80 or block[136] & 0x80:
        return None
    stored = _octal(block[148:156])
    if stored != sum(block) - sum(block[148:156]) + 256:
        raise InvalidArgument("invalid tar header: checksum mismatch")
    name = block[0:100].split(b"\0", 1)[0]
    if block[257:262] == b"ustar" and block[263:265] == b"00" and block[345] != 0:
        name = block[345:500].split(b"\0", 1)[0] + b"/" + name
    size = _octal(block[124:136]) if kind is EntryType.REGULAR else 0
    link = block[157:257].split(b"\0", 1)[0]
    return TarHeader(
        decode_text(name), kind, _octal(block[100:108]), size, _octal(block[136:148]), decode_text(link), iter(())
    )


def _full(block: bytes, stream: _Bytes, overrides: dict[str, bytes]) -> TarHeader | None:
    """The full decoder's answer: a header, or None after consuming a metadata entry."""
    raw = decode_header(block)
    if raw.member is None:
        if raw.size > _MAX_META:
            raise InvalidArgument("invalid tar header: metadata entry too large")
        data = stream.read(padded(raw.size))[: raw.size]
        if raw.meta is MetaType.GNU_LONGNAME:
            overrides["path"] = decode_text(data).encode("utf-8", "surrogateescape")
        elif raw.meta is MetaType.GNU_LONGLINK:
            overrides["linkpath"] = decode_text(data).encode("utf-8", "surrogateescape")
        elif raw.meta is MetaType.PAX:
            overrides.update(parse_pax(data))
        return None
    member = apply_pax(raw.member, overrides)
    size = member.size if member.type is EntryType.REGULAR else 0
    return TarHeader(
        member.name, member.type, member.mode, size, member.mtime_ns // 1_000_000_000, member.linkname, iter(())
    )


def read_members(chunks: Iterable[bytes]) -> Iterator[TarHeader]:
    """Every entry of the tar in `chunks`; each header's data must be consumed before the next.

    Raises InvalidArgument for a truncated or malformed tar.
    """
    stream = _Bytes(chunks)
    overrides: dict[str, bytes] = {}
    while True:
        block = stream.read(BLOCK)
        if not block or block == ZERO_BLOCK:
            break
        if len(block) < BLOCK:
            raise InvalidArgument("invalid tar: unexpected EOF")
        header = None if overrides else _fast(block)
        if header is None:
            header = _full(block, stream, overrides)
            if header is None:
                continue
            overrides = {}
        header.data = _data(stream, header.size)
        yield header
        for _ in header.data:  # whatever the caller left unread
            pass
        stream.skip(padded(header.size) - header.size)
    stream.drain()


def _data(stream: _Bytes, size: int) -> Iterator[bytes]:
    left = size
    while left:
        piece = stream.read(min(left, _PIECE))
        if not piece:
            raise InvalidArgument("invalid tar: unexpected EOF")
        left -= len(piece)
        yield piece
