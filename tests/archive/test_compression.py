"""Compression detection and streaming (de)compression."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os

import pytest
import zstandard

from dockyard.archive.compression import (
    CHUNK,
    Compression,
    compressed_writer,
    decompressed_chunks,
    detect,
)
from dockyard.errors import InvalidArgument, NotSupported

PAYLOAD = os.urandom(300_000) + bytes(3_000_000) + b"tail"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x1f\x8b\x08\x00", Compression.GZIP),
        (b"\x28\xb5\x2f\xfd\x00", Compression.ZSTD),
        (b"BZh91", Compression.BZIP2),
        (b"\xfd7zXZ\x00", Compression.XZ),
        (b"etc/\x00\x00", Compression.PLAIN),
        (b"", Compression.PLAIN),
    ],
)
def test_detect(head: bytes, kind: Compression) -> None:
    assert detect(head) is kind


def _compress(kind: Compression, data: bytes) -> bytes:
    return {
        Compression.PLAIN: lambda d: d,
        Compression.GZIP: gzip.compress,
        Compression.ZSTD: zstandard.ZstdCompressor(write_checksum=True).compress,
        Compression.BZIP2: bz2.compress,
        Compression.XZ: lzma.compress,
    }[kind](data)


class Trickle(io.RawIOBase):
    """A pipe-like reader that returns at most 1000 bytes per read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(1000, size if size >= 0 else 1000))


@pytest.mark.parametrize("kind", list(Compression))
def test_round_trip_in_bounded_chunks(kind: Compression) -> None:
    chunks = list(decompressed_chunks(Trickle(_compress(kind, PAYLOAD))))
    assert b"".join(chunks) == PAYLOAD
    assert max(map(len, chunks)) <= CHUNK


@pytest.mark.parametrize("kind", [Compression.GZIP, Compression.ZSTD, Compression.BZIP2])
def test_concatenated_members(kind: Compression) -> None:
    stream = _compress(kind, b"one ") + _compress(kind, b"two")
    assert b"".join(decompressed_chunks(io.BytesIO(stream))) == b"one two"


def test_gzip_trailing_zero_padding_is_ignored() -> None:
    stream = gzip.compress(b"data") + bytes(512)
    assert b"".join(decompressed_chunks(io.BytesIO(stream))) == b"data"


@pytest.mark.parametrize("kind", [Compression.GZIP, Compression.ZSTD, Compression.BZIP2, Compression.XZ])
def test_truncated_stream_is_refused(kind: Compression) -> None:
    stream = _compress(kind, PAYLOAD)
    with pytest.raises(InvalidArgument):
        b"".join(decompressed_chunks(io.BytesIO(stream[: len(stream) // 2])))


@pytest.mark.parametrize("kind", [Compression.GZIP, Compression.ZSTD])
def test_corrupt_stream_is_refused(kind: Compression) -> None:
    stream = bytearray(_compress(kind, os.urandom(10_000)))
    stream[len(stream) // 2] ^= 0xFF
    stream[len(stream) // 2 + 1] ^= 0xFF
    with pytest.raises(InvalidArgument):
        b"".join(decompressed_chunks(io.BytesIO(bytes(stream))))


@pytest.mark.parametrize("kind", [Compression.GZIP, Compression.ZSTD])
def test_writer_round_trips_and_is_reproducible(kind: Compression) -> None:
    outputs = []
    for _ in range(2):
        out = io.BytesIO()
        with compressed_writer(out, kind) as writer:
            writer.write(PAYLOAD)
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    assert detect(outputs[0]) is kind
    assert b"".join(decompressed_chunks(io.BytesIO(outputs[0]))) == PAYLOAD


def test_writer_refuses_read_only_formats() -> None:
    with pytest.raises(NotSupported):
        compressed_writer(io.BytesIO(), Compression.XZ)
