"""Docker's json-file log, writing side (runs in the shim); logreader.py reads it back.

One `{"log","stream","time"}` object per line. Rotation keeps `<name>`, `<name>.1`
(newest rotated) ... up to `max_files` files in all. Encoding and line splitting are pure.
"""

from __future__ import annotations

import json
import os
import time

MAX_PARTIAL = 16 * 1024  # a line longer than this is logged in pieces, as Docker does


def format_time(ns: int) -> str:
    """Go's RFC3339Nano in UTC: nanoseconds with trailing zeros trimmed."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def encode_entry(stream: str, data: bytes, stamp: str) -> bytes:
    """One log line, escaped the way Go's encoder does (invalid UTF-8 becomes U+FFFD)."""
    text = json.dumps(data.decode("utf-8", "replace"), ensure_ascii=False)
    for raw, escaped in _GO_ESCAPES.items():
        text = text.replace(raw, escaped)
    return f'{{"log":{text},"stream":"{stream}","time":"{stamp}"}}\n'.encode()


class LineSplitter:
    """Cut a byte stream into log messages: whole lines, or MAX_PARTIAL-sized pieces."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._pending += data
        out = []
        while True:
            cut = self._pending.find(b"\n")
            if cut < 0:
                if len(self._pending) < MAX_PARTIAL:
                    return out
                cut = MAX_PARTIAL - 1
            out.append(bytes(self._pending[: cut + 1]))
            del self._pending[: cut + 1]

    def flush(self) -> list[bytes]:
        rest, self._pending = bytes(self._pending), bytearray()
        return [rest] if rest else []


def rotated_paths(path: str, max_files: int) -> list[str]:
    """All files of one log, oldest first: `<path>.N` ... `<path>.1`, `<path>`."""
    return [f"{path}.{i}" for i in range(max_files - 1, 0, -1)] + [path]


class JsonFileWriter:
    """Appends log entries to `path`, rotating past max_size bytes."""

    def __init__(self, path: str, max_size: int, max_files: int) -> None:
        self.path, self.max_size, self.max_files = path, max_size, max(max_files, 1)
        self._file = open(path, "ab")
        self._size = self._file.tell()
        self._splitters = {"stdout": LineSplitter(), "stderr": LineSplitter()}

    def write(self, stream: str, data: bytes) -> None:
        """Log the complete lines of `data`; a trailing partial line waits for more."""
        for piece in self._splitters[stream].feed(data):
            self._append(encode_entry(stream, piece, format_time(time.time_ns())))

    def close(self) -> None:
        """Log any partial lines (without a newline, as Docker does) and close."""
        for stream, splitter in self._splitters.items():
            for piece in splitter.flush():
                self._append(encode_entry(stream, piece, format_time(time.time_ns())))
        self._file.close()

    def _append(self, line: bytes) -> None:
        if self.max_size > 0 and self._size and self._size + len(line) > self.max_size:
            self._rotate()
        self._file.write(line)
        self._file.flush()
        self._size += len(line)

    def _rotate(self) -> None:
        self._file.close()
        files = rotated_paths(self.path, self.max_files)
        for older, newer in zip(files, files[1:], strict=False):
            if os.path.exists(newer):
                os.replace(newer, older)
        self._file = open(self.path, "wb")
        self._size = 0
