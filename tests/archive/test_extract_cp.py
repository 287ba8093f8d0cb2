"""extract_at (docker cp's PUT) against a tree that changes under it between entries."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.archive.extract import extract_at
from dockyard.errors import InvalidArgument

REG, DIR, SYM = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE


def _tar(entries: list[tuple[str, bytes, bytes]]) -> tuple[bytes, dict[str, int]]:
    """(the tar, the offset of each entry's header)."""
    buffer, offsets = io.BytesIO(), {}
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, kind, data in entries:
            offsets[name] = buffer.tell()
            info = tarfile.TarInfo(name)
            info.type, info.mode = kind, 0o755 if kind == DIR else 0o644
            if kind == SYM:
                info.linkname = data.decode()
                tar.addfile(info)
            else:
                info.size = len(data) if kind == REG else 0
                tar.addfile(info, io.BytesIO(data) if kind == REG else None)
    return buffer.getvalue(), offsets


class _Tripwire(io.RawIOBase):
    """Hands out a tar a block at most a read and runs `act` once the reader reaches `at` (a
    header's offset): the entries before it are applied by then and the one at it is not yet."""

    def __init__(self, data: bytes, at: int, act: Callable[[], None]) -> None:
        self.data, self.pos, self.at, self.act = data, 0, at, act

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.pos >= self.at and self.act:
            self.act, act = None, self.act
            act()
        size = 512 - self.pos % 512 if size < 0 else min(size, 512 - self.pos % 512)
        piece = self.data[self.pos : self.pos + size]
        self.pos += len(piece)
        return piece


def _extract(stream, dest: Path, **options) -> None:
    fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        extract_at(stream, fd, **options)
    finally:
        os.close(fd)


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "dest").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path / "dest", tmp_path / "outside"


def _swap(dest: Path, outside: Path) -> Callable[[], None]:
    """A directory of dest replaced by a link to outside, as a process in a container could."""
    return lambda: (os.rename(dest / "d", dest / "moved"), os.symlink(outside, dest / "d"))


def test_a_parent_swapped_for_a_link_between_entries_is_not_followed(places, tmp_path):
    dest, outside = places
    data, offsets = _tar([("d", DIR, b""), ("d/a", REG, b"a"), ("d/b", REG, b"b")])
    _extract(_Tripwire(data, offsets["d/b"], _swap(dest, outside)), dest, no_overwrite_dir_non_dir=True)
    assert os.listdir(outside) == []
    assert sorted(os.listdir(dest / "moved")) == ["a", "b"]  # the directory it opened, wherever it went


def test_a_parent_swapped_for_a_link_is_refused_when_opened_again(places):
    dest, outside = places
    entries = [("d", DIR, b""), ("d/a", REG, b"a")]
    entries += [(f"x{n}", DIR, b"") for n in range(300)]  # more directories than the fd cache holds
    entries += [("d/b", REG, b"b")]
    data, offsets = _tar(entries)
    with pytest.raises(InvalidArgument, match='"d" is a symlink'):
        _extract(_Tripwire(data, offsets["x0"], _swap(dest, outside)), dest)
    assert os.listdir(outside) == []


@pytest.mark.parametrize("keep_kinds", [False, True])
def test_a_file_replaces_a_link_to_outside_instead_of_writing_through_it(places, keep_kinds):
    dest, outside = places
    (outside / "file").write_text("keep")
    os.symlink(outside / "file", dest / "f")
    data, _ = _tar([("f", REG, b"new")])
    _extract(io.BytesIO(data), dest, no_overwrite_dir_non_dir=keep_kinds)
    assert (outside / "file").read_text() == "keep"
    assert not os.path.islink(dest / "f") and (dest / "f").read_text() == "new"


def test_kinds_are_kept_when_asked_and_replaced_otherwise(places):
    dest, _ = places
    (dest / "d").mkdir()
    (dest / "d" / "inner").write_text("x")
    (dest / "f").write_text("file")
    to_file, _ = _tar([("d", REG, b"x")])
    to_dir, _ = _tar([("f", DIR, b"")])
    with pytest.raises(InvalidArgument, match='cannot overwrite directory "d" with non-directory "d"'):
        _extract(io.BytesIO(to_file), dest, no_overwrite_dir_non_dir=True)
    with pytest.raises(InvalidArgument, match='cannot overwrite non-directory "f" with directory "f"'):
        _extract(io.BytesIO(to_dir), dest, no_overwrite_dir_non_dir=True)
    assert (dest / "d" / "inner").read_text() == "x" and (dest / "f").read_text() == "file"
    _extract(io.BytesIO(to_file), dest)
    _extract(io.BytesIO(to_dir), dest)
    assert (dest / "d").read_text() == "x" and (dest / "f").is_dir()
