"""SOURCE_DATE_EPOCH for layers: every mtime after the epoch is clamped to it (pure stream).

Two builds of the same inputs then give byte-identical layer tars, so the same diff_ids
and, with the config's times set to the epoch too, the same image ID (BuildKit's
`rewrite-timestamp`).
"""

from __future__ import annotations

import dataclasses
from typing import BinaryIO

from dockyard.archive import decompressed_chunks
from dockyard.archive.reader import TarReader
from dockyard.archive.tarformat import BLOCK, encode_member, padded


def clamp_mtimes(source: BinaryIO, out: BinaryIO, epoch: int) -> None:
    """Copy the tar in `source` to `out` with no mtime later than `epoch` (seconds)."""
    limit = epoch * 1_000_000_000
    reader = TarReader(decompressed_chunks(source))
    for member in reader:
        if member.mtime_ns > limit:
            member = dataclasses.replace(member, mtime_ns=limit)
        out.write(encode_member(member))
        for piece in reader.data():
            out.write(piece)
        out.write(bytes(padded(member.size) - member.size))
    reader.drain()
    out.write(bytes(2 * BLOCK))
