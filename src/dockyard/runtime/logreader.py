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


def read_entries(path: str, max_files: int) -> Iterator[LogEntry]:
    """Every entry of a log and its rotations, oldest first; a torn last line is skipped."""
    for name in rotated_paths(path, max_files):
        try:
            with open(name, "rb") as f:
                for line in f:
                    if line.endswith(b"\n"):
                        yield decode_entry(line)
        except FileNotFoundError:
            continue


def select(
    entries: Iterator[LogEntry], tail: int | None = None, since_ns: int = 0, until_ns: int = 0
) -> list[LogEntry]:
    """Docker's filters: entries after `since`, before `until` (0: no bound), last `tail`."""
    kept = (e for e in entries if (not since_ns or e.time_ns > since_ns) and (not until_ns or e.time_ns <= until_ns))
    if tail is None or tail < 0:
        return list(kept)
    return list(deque(kept, maxlen=tail)) if tail else []


def follow(path: str, keep_going: Callable[[], bool], poll: float = 0.05) -> Iterator[LogEntry]:
    """Entries appended to `path` from this call on, across rotations, while keep_going() holds.

    The file is opened here, not at the first next(), so nothing written after the call is
    missed.
    """
    f = open(path, "rb")
    f.seek(0, os.SEEK_END)
    return _follow(f, path, keep_going, poll)


def _follow(f, path: str, keep_going: Callable[[], bool], poll: float) -> Iterator[LogEntry]:
    pending = b""
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
            if chunk:
                continue
            if not keep_going():
                return
            time.sleep(poll)
    finally:
        f.close()


def _rotated(f, path: str) -> bool:
    try:
        return os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return False
