"""A streaming tar reader over byte chunks: no I/O of its own, no copies of file data.

    reader = TarReader(chunks)
    for member in reader:            # GNU long names and PAX records already applied
        for piece in reader.data():  # memoryviews into the chunks; optional, skipped if unread
            ...
    reader.drain()                   # consume what follows the end blocks (hashing needs it)

Like Go's archive/tar, a stream that ends cleanly on a block boundary without the two zero
blocks is accepted; a stream that ends inside a header or inside file data is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dockyard.archive.tarformat import (
    BLOCK,
    ZERO_BLOCK,
    Member,
    MetaType,
    apply_pax,
    check_ranges,
    decode_header,
    decode_text,
    padded,
    parse_pax,
)
from dockyard.errors import InvalidArgument

MAX_META = 1 << 20  # PAX and GNU long-name data larger than this is refused (as Go does)
MAX_GLOBALS = 1 << 20  # all PAX global records together
MAX_DEPTH = 512  # path components of one entry name; deeper trees are refused, not recursed into
_LOCAL_ONLY = ("path", "linkpath")


def _check_depth(name: str) -> None:
    if name.count("/") >= MAX_DEPTH:
        raise InvalidArgument(f"invalid tar header: path has more than {MAX_DEPTH} components: {name[:80]}...")


class TarReader:
    """Pull Members out of an iterable of byte chunks; each member's data before the next."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._view = memoryview(b"")
        self._unread = 0
        self._padding = 0
        self._globals: dict[str, bytes] = {}

    def __iter__(self) -> Iterator[Member]:
        while (member := self.next()) is not None:
            yield member

    def next(self) -> Member | None:
        """The next member, or None at the end of the archive.

        Raises:
            InvalidArgument: the tar is truncated or a header is malformed.
        """
        self._skip(self._unread + self._padding)
        self._unread = self._padding = 0
        overrides: dict[str, bytes] = {}
        pending = 0  # metadata bytes read for this entry: PAX and GNU headers may repeat
        while True:
            block = self._take(BLOCK, eof_ok=True)
            if block is None or block == ZERO_BLOCK:
                return None
            raw = decode_header(block)
            if raw.member is not None:
                member = check_ranges(apply_pax(raw.member, {**self._globals, **overrides}))
                _check_depth(member.name)
                self._unread = member.size
                self._padding = padded(member.size) - member.size
                return member
            pending += raw.size
            if raw.size > MAX_META or pending > MAX_META:
                raise InvalidArgument("invalid tar header: metadata entry too large")
            data = bytes(self._take(padded(raw.size)))[: raw.size]
            self._meta(raw.meta, data, overrides)

    def _meta(self, meta: MetaType | None, data: bytes, overrides: dict[str, bytes]) -> None:
        if meta is MetaType.GNU_LONGNAME:
            overrides.setdefault("path", decode_text(data).encode("utf-8", "surrogateescape"))
        elif meta is MetaType.GNU_LONGLINK:
            overrides.setdefault("linkpath", decode_text(data).encode("utf-8", "surrogateescape"))
        elif meta is MetaType.PAX:
            overrides.update(parse_pax(data))
        else:
            records = parse_pax(data)
            self._globals.update({k: v for k, v in records.items() if k not in _LOCAL_ONLY})
            if sum(len(k) + len(v) for k, v in self._globals.items()) > MAX_GLOBALS:
                raise InvalidArgument("invalid tar header: PAX global records too large")

    def data(self) -> Iterator[memoryview]:
        """The current member's file data, as views into the decompressed chunks."""
        while self._unread:
            if not self._view:
                self._refill()
            piece = self._view[: self._unread]
            self._view = self._view[len(piece) :]
            self._unread -= len(piece)
            yield piece

    def drain(self) -> None:
        """Read the rest of the stream (padding after the end blocks)."""
        self._view = memoryview(b"")
        for _ in self._chunks:
            pass

    def _refill(self, eof_ok: bool = False) -> bool:
        """Load the next non-empty chunk; at the end, False if eof_ok else InvalidArgument."""
        for chunk in self._chunks:
            if chunk:
                self._view = memoryview(chunk)
                return True
        if eof_ok:
            return False
        raise InvalidArgument("invalid tar: unexpected EOF")

    def _take(self, size: int, eof_ok: bool = False) -> bytes | None:
        if len(self._view) >= size:
            piece = self._view[:size]
            self._view = self._view[size:]
            return piece.tobytes()
        parts = [self._view.tobytes()]
        have = len(parts[0])
        self._view = memoryview(b"")
        while have < size:
            if not self._refill(eof_ok=eof_ok and have == 0):
                return None
            piece = self._view[: size - have]
            self._view = self._view[len(piece) :]
            parts.append(piece.tobytes())
            have += len(piece)
        return b"".join(parts)

    def _skip(self, size: int) -> None:
        while size:
            if not self._view:
                self._refill()
            step = min(size, len(self._view))
            self._view = self._view[step:]
            size -= step
