"""Follow zstd frame and block headers (never their contents) to tell a whole stream from a cut one.

zstandard's bounded stream reader ends quietly when its input stops inside a frame; this
scanner, fed the same compressed bytes, says whether the input stopped between frames.
Layout (RFC 8878): magic, frame header descriptor, optional window/dictionary/size fields,
blocks of a 3-byte header (last-block bit, type, size) each, optional 4-byte checksum;
skippable frames are a magic 0x184D2A5?, a 4-byte size and that many bytes.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

MAGIC = b"\x28\xb5\x2f\xfd"
_DICT_ID_SIZES = (0, 1, 2, 4)
_CONTENT_SIZE_SIZES = (0, 2, 4, 8)
_RLE, _RESERVED = 1, 3


class ZstdFrames:
    """A sans-IO scanner: feed() it every compressed byte, then ask complete()."""

    def __init__(self) -> None:
        self._header = b""
        self._need = 4
        self._state = "magic"
        self._skip = 0
        self._checksum = False
        self._frames = 0

    def complete(self) -> bool:
        """True if at least one frame was read and the input stopped between frames."""
        return self._frames > 0 and self._state == "magic" and not self._header and not self._skip

    def feed(self, data: bytes) -> None:
        """Raises InvalidArgument on a header that is not zstd's."""
        pos = 0
        while pos < len(data):
            if self._skip:
                step = min(self._skip, len(data) - pos)
                pos += step
                self._skip -= step
                continue
            take = self._need - len(self._header)
            self._header += data[pos : pos + take]
            pos += take
            if len(self._header) == self._need:
                header, self._header = self._header, b""
                self._advance(header)

    def _expect(self, state: str, need: int) -> None:
        self._state, self._need = state, need

    def _advance(self, header: bytes) -> None:
        if self._state == "magic":
            self._magic(header)
        elif self._state == "skippable":
            self._skip = int.from_bytes(header, "little")
            self._frames += 1
            self._expect("magic", 4)
        elif self._state == "descriptor":
            self._descriptor(header[0])
        elif self._state == "header":
            self._expect("block", 3)
        elif self._state == "block":
            self._block(int.from_bytes(header, "little"))
        else:  # checksum
            self._frames += 1
            self._expect("magic", 4)

    def _magic(self, header: bytes) -> None:
        if header == MAGIC:
            self._expect("descriptor", 1)
        elif header[1:] == b"\x2a\x4d\x18" and header[0] & 0xF0 == 0x50:
            self._expect("skippable", 4)
        else:
            raise InvalidArgument("invalid zstd layer: unknown frame magic")

    def _descriptor(self, descriptor: int) -> None:
        single_segment = descriptor >> 5 & 1
        self._checksum = bool(descriptor >> 2 & 1)
        content_size = _CONTENT_SIZE_SIZES[descriptor >> 6] or single_segment
        rest = (1 - single_segment) + _DICT_ID_SIZES[descriptor & 3] + content_size
        self._expect("header", rest) if rest else self._expect("block", 3)

    def _block(self, header: int) -> None:
        kind = header >> 1 & 3
        if kind == _RESERVED:
            raise InvalidArgument("invalid zstd layer: reserved block type")
        self._skip = 1 if kind == _RLE else header >> 3
        if not header & 1:
            self._expect("block", 3)
        elif self._checksum:
            self._expect("checksum", 4)
        else:
            self._frames += 1
            self._expect("magic", 4)
