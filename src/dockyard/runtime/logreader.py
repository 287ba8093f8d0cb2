"""Docker's json-file log, reading side: `docker logs` with tail, since/until and follow.

Follow survives rotation: when the path names a new file, the old one is drained first.
Decoding and selection are pure.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
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
    return list(deque(kept, maxlen=tail))  # tail 0 reads them all too: a follower goes on from the end


class LogReading:
    """One `docker logs` over a log: the entries so far, then (with follow) those appended
    after them. Every file of the log is opened at the start, newest first, so a rotation
    meanwhile (files are renamed, an open one stays what it was) loses none and opens none
    twice; `past()` reads the current file through the handle `follow()` goes on with, so
    an entry written in between is read once, by one of them. Close it when done."""

    def __init__(self, path: str, max_files: int) -> None:
        self.path = path
        opened: list[tuple[str, BinaryIO]] = []
        inodes: set[int] = set()
        for name in reversed(rotated_paths(path, max_files)):
            try:
                f = open(name, "rb")
            except FileNotFoundError:
                continue
            if os.fstat(f.fileno()).st_ino in inodes:
                f.close()  # rotated into this name since the newer one was opened
                continue
            inodes.add(os.fstat(f.fileno()).st_ino)
            opened.append((name, f))
        self._current = opened[0][1] if opened and opened[0][0] == path else None
        self._older = [f for _, f in reversed(opened) if f is not self._current]  # oldest first
        self._pending = b""  # a torn last line past() left for the follower
        self._follower: Generator[LogEntry, None, None] | None = None

    def past(self) -> Iterator[LogEntry]:
        """Every entry so far, oldest first; the rotated files are closed once read. The
        current file is read up to its last whole line: a line still being written is left
        to follow(), which reads the rest of it."""
        while self._older:
            with self._older.pop(0) as f:
                for line in f:
                    if line.endswith(b"\n"):
                        yield decode_entry(line)
        if self._current is not None:
            for line in self._current:
                if not line.endswith(b"\n"):
                    self._pending = line
                    break
                yield decode_entry(line)

    def follow(self, keep_going: Callable[[], bool], poll: float = 0.05) -> Iterator[LogEntry]:
        """After past() is read: the entries appended since, across rotations, until
        keep_going() fails; then whatever the writer finished meanwhile, read once more."""
        if self._current is None:
            return iter(())
        self._follower = _follow(self._current, self.path, keep_going, poll, self._pending)
        return self._follower

    def close(self) -> None:
        """Close every file, the follower's too (a client that left mid-stream)."""
        if self._follower is not None:
            self._follower.close()
        for f in [*self._older, *([self._current] if self._current is not None else [])]:
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
                try:
                    f, pending = open(path, "rb"), b""
                except FileNotFoundError:  # the log went with its container
                    return
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
