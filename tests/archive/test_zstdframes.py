"""The zstd frame scanner tells whole streams from cut ones, at every cut."""

from __future__ import annotations

import os

import pytest
import zstandard

from dockyard.archive.zstdframes import ZstdFrames
from dockyard.errors import InvalidArgument

DATA = os.urandom(5000) + bytes(300_000) + b"text " * 2000


def _scan(stream: bytes, step: int = 1 << 30) -> bool:
    frames = ZstdFrames()
    for i in range(0, len(stream), step):
        frames.feed(stream[i : i + step])
    return frames.complete()


@pytest.mark.parametrize("checksum", [False, True])
@pytest.mark.parametrize("content_size", [False, True])
def test_whole_streams_are_complete_at_any_feeding(checksum: bool, content_size: bool) -> None:
    compressor = zstandard.ZstdCompressor(write_checksum=checksum, write_content_size=content_size)
    stream = compressor.compress(DATA) + compressor.compress(b"second frame")
    assert _scan(stream) and _scan(stream, 1) and _scan(stream, 1000)


def test_streamed_frames_without_content_size_are_complete() -> None:
    compressor = zstandard.ZstdCompressor()
    chunker = compressor.chunker(chunk_size=4096)
    stream = b"".join([*chunker.compress(DATA), *chunker.finish()])
    assert _scan(stream)


def test_every_cut_is_incomplete() -> None:
    stream = zstandard.ZstdCompressor(write_checksum=True).compress(DATA)
    assert not any(_scan(stream[:cut]) for cut in range(0, len(stream), 7))
    assert not _scan(stream[:-1])


def test_skippable_frame_is_passed_over() -> None:
    skippable = b"\x50\x2a\x4d\x18" + (5).to_bytes(4, "little") + b"hello"
    stream = skippable + zstandard.ZstdCompressor().compress(b"x")
    assert _scan(stream) and not _scan(stream[:7])


def test_foreign_magic_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        ZstdFrames().feed(b"\x1f\x8b\x08\x00")
