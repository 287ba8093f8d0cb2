"""A layer tar written entry by entry (COPY, ADD and WORKDIR make their layers this way).

Writing the tar straight from the sources, instead of copying files into a snapshot and
diffing it, creates each file on disk once (when the layer is unpacked), which on a slow
disk is most of a COPY's cost. Names are relative, directories end in '/', parents come
before children; with `epoch` set (SOURCE_DATE_EPOCH) no mtime is later than it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import BinaryIO

from dockyard.archive.tarformat import BLOCK, EntryType, Member, encode_member, padded


class LayerWriter:
    """Entries out to `out` (a content writer); `directories` are the paths already written."""

    def __init__(self, out: BinaryIO, epoch: int | None = None) -> None:
        self._out, self._epoch = out, epoch
        self.directories: set[str] = set()
        self.entries = 0

    def _header(
        self, path: str, kind: EntryType, mode: int, uid: int, gid: int, mtime: int, size: int = 0, link: str = ""
    ) -> bytes:
        if self._epoch is not None:
            mtime = min(mtime, self._epoch)
        name = (path.strip("/") + ("/" if kind is EntryType.DIRECTORY else "")).encode("utf-8", "surrogateescape")
        target = link.encode("utf-8", "surrogateescape")
        if len(name) <= 100 and len(target) <= 100 and name.isascii() and target.isascii() and max(uid, gid) < _MAX_ID:
            if 0 <= mtime < _MAX_NUMBER and size < _MAX_NUMBER:
                return _ustar(name, kind.value, mode, uid, gid, size, mtime, target)
        return encode_member(self._member(path, kind, mode, uid, gid, mtime, size=size, linkname=link))

    def _member(self, path: str, kind: EntryType, mode: int, uid: int, gid: int, mtime: int, **extra) -> Member:
        if self._epoch is not None:
            mtime = min(mtime, self._epoch)
        name = path.strip("/") + ("/" if kind is EntryType.DIRECTORY else "")
        return Member(name, kind, mode, uid, gid, mtime_ns=mtime * 1_000_000_000, **extra)

    def directory(self, path: str, mode: int, uid: int, gid: int, mtime: int) -> None:
        self._out.write(self._header(path, EntryType.DIRECTORY, mode, uid, gid, mtime))
        self.directories.add(path)
        self.entries += 1

    def symlink(self, path: str, target: str, uid: int, gid: int, mtime: int) -> None:
        self._out.write(self._header(path, EntryType.SYMLINK, 0o777, uid, gid, mtime, link=target))
        self.entries += 1

    def file(self, path: str, mode: int, uid: int, gid: int, mtime: int, size: int, data: Iterable[bytes]) -> None:
        """A regular file of exactly `size` bytes. Raises ValueError if `data` disagrees."""
        self._out.write(self._header(path, EntryType.REGULAR, mode, uid, gid, mtime, size=size))
        written = 0
        for piece in data:
            written += len(piece)
            self._out.write(piece)
        if written != size:
            raise ValueError(f"{path}: expected {size} bytes, read {written}")
        self._out.write(bytes(padded(size) - size))
        self.entries += 1

    def member(self, member: Member, data: Iterable[bytes]) -> None:
        """An entry taken from another tar (ADD of a local archive), data and all."""
        if self._epoch is not None and member.mtime_ns > self._epoch * 1_000_000_000:
            member = dataclasses.replace(member, mtime_ns=self._epoch * 1_000_000_000)
        self._out.write(encode_member(member))
        for piece in data:
            self._out.write(piece)
        self._out.write(bytes(padded(member.size) - member.size))
        if member.type is EntryType.DIRECTORY:
            self.directories.add("/" + member.name.strip("/"))
        self.entries += 1

    def close(self) -> None:
        self._out.write(bytes(2 * BLOCK))


_MAX_ID = 0o7777777
_MAX_NUMBER = 0o77777777777
_TAIL = b"ustar\x0000" + bytes(64) + b"0000000\x00" * 2 + bytes(167)


def _ustar(name: bytes, flag: bytes, mode: int, uid: int, gid: int, size: int, mtime: int, link: bytes) -> bytes:
    """A plain ustar header, byte for byte what archive.tarformat.encode_member writes for it."""
    block = bytearray(
        b"%s%07o\x00%07o\x00%07o\x00%011o\x00%011o\x00        %s%s%s"
        % (name.ljust(100, b"\x00"), mode & 0o7777, uid, gid, size, mtime, flag, link.ljust(100, b"\x00"), _TAIL)
    )
    block[148:156] = b"%06o\x00 " % sum(block)
    return bytes(block)
