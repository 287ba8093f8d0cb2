"""Pure decoders for the API's streams: the 8-byte-header multiplexed framing and NDJSON lines.

A multiplexed frame is `[stream, 0, 0, 0, size (uint32 big-endian)]` then `size` bytes;
stream 0 is stdin, 1 stdout, 2 stderr (podman libpod/oci.go HTTPAttach, moby stdcopy).
"""

from __future__ import annotations

import json

from dockyard.errors import InvalidArgument

STDIN, STDOUT, STDERR = 0, 1, 2
HEADER_SIZE = 8


def encode_frame(stream: int, payload: bytes) -> bytes:
    """One multiplexed frame (used by tests and fakes)."""
    return bytes((stream, 0, 0, 0)) + len(payload).to_bytes(4, "big") + payload


class FrameDecoder:
    """Feed bytes in any slicing; get back (stream, payload) frames as they complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= HEADER_SIZE:
            stream = self._buffer[0]
            if stream > STDERR:
                raise InvalidArgument(f"Unrecognized input header: {stream}")
            size = int.from_bytes(self._buffer[4:8], "big")
            if len(self._buffer) < HEADER_SIZE + size:
                break
            frames.append((stream, bytes(self._buffer[HEADER_SIZE : HEADER_SIZE + size])))
            del self._buffer[: HEADER_SIZE + size]
        return frames

    @property
    def pending(self) -> int:
        """Bytes held back because their frame is incomplete."""
        return len(self._buffer)


class JSONLineDecoder:
    """Feed bytes; get back each complete JSON object (blank lines are skipped)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[dict]:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def close(self) -> list[dict]:
        """Decode whatever is left when the stream ends without a newline."""
        rest, self._buffer = self._buffer, b""
        return [json.loads(rest)] if rest.strip() else []
