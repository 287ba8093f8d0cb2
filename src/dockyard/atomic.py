"""Atomic file writes: readers see the old content or the new, never a torn file.

Every write goes to a temp file `.<name>.<random>.tmp` (beside the target, or in `temp_dir`
on the same filesystem), is fsynced, renamed over the target, and the target's directory is
fsynced so that the rename survives a crash too. On failure the temp file is removed and the
target is left as it was. Imports are kept to os and json: the shim writes through here.

`durable=False` skips both fsyncs and keeps the rest: for files that describe only what runs
on this boot (a task's state, read by the daemon and its shims), which a power loss makes
moot. Other processes still see the old content or the new; after a power loss the file
may be missing or empty, and its readers take that as "absent".
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager

TYPE_CHECKING = False  # typing costs the shim milliseconds at start-up
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, Any

StrPath = str | os.PathLike[str]
_SUFFIX = ".tmp"


def write_bytes(
    path: StrPath, data: bytes, mode: int = 0o644, temp_dir: StrPath | None = None, durable: bool = True
) -> None:
    """Replace `path` with `data`; a new file gets permission bits `mode` (less the umask)."""
    with replacing(path, mode, temp_dir, durable) as out:
        out.write(data)


def write_text(path: StrPath, text: str, mode: int = 0o644, durable: bool = True) -> None:
    """Replace `path` with `text`, encoded as UTF-8."""
    write_bytes(path, text.encode(), mode, durable=durable)


def write_json(path: StrPath, value: Any, mode: int = 0o644, indent: str | None = None, durable: bool = True) -> None:
    """Replace `path` with `value` as JSON (compact unless `indent` is given)."""
    separators = None if indent else (",", ":")
    write_text(path, json.dumps(value, indent=indent, separators=separators), mode, durable)


@contextmanager
def replacing(
    path: StrPath, mode: int = 0o644, temp_dir: StrPath | None = None, durable: bool = True
) -> Iterator[IO[bytes]]:
    """A binary file that replaces `path` when the block ends without an exception (fsynced,
    with its directory, unless not `durable`)."""
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    where = directory if temp_dir is None else os.fspath(temp_dir)
    temp = os.path.join(where, f".{os.path.basename(target)}.{os.urandom(6).hex()}{_SUFFIX}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        fsync_dir(directory)


def leftovers(path: StrPath) -> list[str]:
    """Temp files that a crash in the middle of writing `path` may have left beside it."""
    directory, name = os.path.split(os.path.abspath(os.fspath(path)))
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(os.path.join(directory, n) for n in names if leftover_of(n) == name)


def leftover_of(entry: str) -> str | None:
    """The name a temp file `.<name>.<random>.tmp` was being written for; None for any other name."""
    if not (entry.startswith(".") and entry.endswith(_SUFFIX)):
        return None
    name, dot, middle = entry[1 : -len(_SUFFIX)].rpartition(".")
    if dot and name and len(middle) == 12 and all(c in "0123456789abcdef" for c in middle):
        return name
    return None


def fsync_dir(path: StrPath) -> None:
    """fsync a directory: the names created, renamed or removed in it become durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
