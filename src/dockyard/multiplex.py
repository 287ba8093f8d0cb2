"""Docker's stdio multiplexing for attach and logs without a TTY. Pure.

Each frame is an 8-byte header `[stream, 0, 0, 0, size (big-endian uint32)]` followed by
`size` bytes of payload; stream is 0 stdin, 1 stdout, 2 stderr (podman `libpod/oci.go`).
"""

from __future__ import annotations

import struct

STDIN, STDOUT, STDERR = 0, 1, 2
HEADER = struct.Struct(">BxxxI")


def encode_frame(stream: int, payload: bytes) -> bytes:
    """One frame carrying `payload` on `stream`. Raises ValueError for an unknown stream."""
    if stream not in (STDIN, STDOUT, STDERR):
        raise ValueError(f"invalid stream {stream}")
    return HEADER.pack(stream, len(payload)) + payload


class FrameDecoder:
    """Incremental decoder: feed bytes as they arrive, get whole frames back."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Frames completed by `data`, in order; a partial frame stays buffered."""
        self._buffer += data
        frames = []
        while len(self._buffer) >= HEADER.size:
            stream, size = HEADER.unpack_from(self._buffer)
            if stream not in (STDIN, STDOUT, STDERR):
                raise ValueError(f"Unrecognized input header: {stream}")
            end = HEADER.size + size
            if len(self._buffer) < end:
                break
            frames.append((stream, bytes(self._buffer[HEADER.size : end])))
            del self._buffer[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still waiting for the rest."""
        return len(self._buffer)
