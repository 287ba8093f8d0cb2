"""Docker's json-file log, reading side: `docker logs` with tail, since/until and follow.

Follow survives rotation: when the path names a new file, the old one is drained first.
Decoding and selection are pure.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from dockyard.runtime.logfile import rotated_paths
from dockyard.timestamps import parse_rfc3339_nano


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One decoded log line."""

    stream: str
    data: bytes
    time: str

    @property
    def time_ns(self) -> int:
        return parse_rfc3339_nano(self.time)


def decode_entry(line: bytes) -> LogEntry:
    """Parse one json-file line; raises ValueError on garbage."""
    obj = json.loads(line)
    return LogEntry(obj.get("stream", "stdout"), obj.get("log", "").encode(), obj["time"])


def select(
    entries: Iterator[LogEntry], tail: int | None = None, since_ns: int = 0, until_ns: int = 0
) -> list[LogEntry]:
    """Docker's filters: entries after `since`, before `until` (0: no bound), last `tail`."""
    kept = (e for e in entries if (not since_ns or e.time_ns > since_ns) and (not until_ns or e.time_ns <= until_ns))
    if tail is None or tail < 0:
        return list(kept)
    return list(deque(kept, maxlen=tail)) if tail else []


class LogReading:
    """One `docker logs` over a log: the entries so far, then (with follow) those appended
    after them. Every file of the log is opened at the start (a rotation renames files, and
    an open file stays the one it was), and `past()` reads the current one through the
    handle the follower goes on with: an entry written meanwhile is read once, by one of them."""

    def __init__(self, path: str, max_files: int) -> None:
        self.path = path
        self._files: list[BinaryIO] = []
        for name in rotated_paths(path, max_files):  # oldest first, the current one last
            try:
                self._files.append(open(name, "rb"))
            except FileNotFoundError:
                continue
        self._current = self._files[-1] if self._files and self._files[-1].name == path else None
        self._pending = b""  # a torn last line past() left for the follower

    def past(self) -> Iterator[LogEntry]:
        """Every entry so far, oldest first, read line by line; the current file's torn last
        line is left to follow()."""
        for f in self._files:
            for line in f:
                if line.endswith(b"\n"):
                    yield decode_entry(line)
                elif f is self._current:
                    self._pending = line

    def follow(self, keep_going: Callable[[], bool], poll: float = 0.05) -> Iterator[LogEntry]:
        """Entries appended after past()'s, across rotations, until keep_going() fails; then
        whatever the writer finished meanwhile, read once more. Closes the file."""
        if self._current is None:
            return
        yield from _follow(self._current, self.path, keep_going, poll, self._pending)

    def close(self) -> None:
        for f in self._files:
            f.close()


def _follow(f, path: str, keep_going: Callable[[], bool], poll: float, pending: bytes = b"") -> Iterator[LogEntry]:
    last = False  # keep_going() failed: one more read takes what was written before it did
    try:
        while True:
            rotated = _rotated(f, path)  # checked first: the old file is drained below
            chunk = f.read()
            if chunk:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                yield from (decode_entry(line + b"\n") for line in lines)
            if rotated:
                f.close()
                f, pending = open(path, "rb"), b""
                continue
            if chunk and not last:
                continue
            if last:
                return
            if not keep_going():
                last = True
                continue
            time.sleep(poll)
    finally:
        f.close()


def _rotated(f, path: str) -> bool:
    try:
        return os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return False
