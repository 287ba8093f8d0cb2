"""The build context: a tar read once, spooled to one file and hashed as it streams in.

    context = BuildContext.receive(body, spool)   every entry indexed, file data in `spool`
    context.read_text("Dockerfile")
    context.exclude(patterns)                      drop .dockerignore matches
    context.sources("src/*.py")                    glob, cleaned, symlinks followed inside
    context.checksum(paths)                        what a COPY's cache key depends on
    context.open(entry)                            one file's bytes, out of the spool

An entry's digest covers its type, permission bits, link target and data, never its
mtime or owner: two checkouts of the same tree hash alike, and `chmod` is a change.
Directories the tar only implies (`a/b` without `a/`) are indexed as 0755 directories.
Nothing in the context can name a path outside it: `..` entries are refused on the way
in, and a symlink that resolves out of the context is refused when a source crosses it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from dockyard.archive import EntryType, decompressed_chunks
from dockyard.build.contextreader import read_members
from dockyard.errors import InvalidArgument, NotFound

_COPY_CHUNK = 1 << 20
_MAX_LINKS = 40
_MAGIC = re.compile(r"[*?\[]")


@dataclass(frozen=True, slots=True)
class Entry:
    """One indexed context entry; `offset` is where its data starts in the spool."""

    path: str
    type: EntryType
    mode: int
    size: int = 0
    mtime: int = 0
    linkname: str = ""
    offset: int = 0
    digest: str = ""


class BuildContext:
    """The index of a received context over its spool file."""

    def __init__(self, entries: dict[str, Entry], spool: Spool) -> None:
        self.entries = entries
        self._spool = spool
        self._children: dict[str, list[str]] | None = None

    @classmethod
    def receive(cls, body: BinaryIO, spool: Spool) -> BuildContext:
        """Read a (possibly compressed) tar from `body` once, writing file data to `spool`.

        Raises InvalidArgument for a malformed tar or an entry that climbs out of the context.
        """
        entries: dict[str, Entry] = {}
        for header in read_members(decompressed_chunks(body)):
            path = clean(header.name)
            if path == "." and header.type is EntryType.DIRECTORY:
                continue
            if path in ("..", ".") or path.startswith("../"):
                raise InvalidArgument(f"invalid build context: entry {header.name!r} is outside of the context")
            if header.type is EntryType.HARDLINK:
                target = entries.get(clean(header.linkname))
                if target is None:
                    raise InvalidArgument(f"invalid build context: hardlink {header.name} to a missing file")
                entries[path] = replace(target, path=path)
                continue
            hasher = hashlib.sha256(f"{header.type.value.decode()} {header.mode:o} {header.linkname}\0".encode())
            start = spool.size
            for piece in header.data:
                hasher.update(piece)
                spool.write(piece)
            entries[path] = Entry(
                path,
                header.type,
                header.mode & 0o7777,
                header.size,
                header.mtime,
                header.linkname,
                start,
                hasher.hexdigest(),
            )
        _add_implied_directories(entries)
        return cls(entries, spool)

    # -- reading ------------------------------------------------------------------------

    def read_text(self, path: str) -> str:
        """A regular file's text (the Dockerfile, .dockerignore). Raises NotFound."""
        entry = self.entries.get(clean(path))
        if entry is None or entry.type is not EntryType.REGULAR:
            raise NotFound(f"Cannot locate specified Dockerfile: {path}")
        return self._spool.read_at(entry.offset, entry.size).decode("utf-8", errors="replace")

    def head(self, entry: Entry, size: int) -> bytes:
        """The first `size` bytes of a regular file."""
        return self._spool.read_at(entry.offset, min(size, entry.size))

    def open(self, entry: Entry) -> BinaryIO:
        """A reader of one regular file's bytes."""
        return _Slice(self._spool, entry.offset, entry.size)  # type: ignore[return-value]

    def exclude(self, excluded) -> None:
        """Forget every entry `excluded(path)` says .dockerignore leaves out."""
        self.entries = {p: e for p, e in self.entries.items() if not excluded(p)}
        self._children = None

    # -- sources ------------------------------------------------------------------------

    def sources(self, pattern: str) -> list[str]:
        """The context paths a COPY/ADD source names: one path, or every glob match, resolved.

        Raises InvalidArgument for a path outside the context, NotFound when nothing matches.
        """
        path = clean(pattern)
        if path.startswith("../") or path == "..":
            raise InvalidArgument(f"forbidden path outside the build context: {pattern} ()")
        if _MAGIC.search(path):
            matches = [p for p in sorted(self.entries) if fnmatch.fnmatchcase(p, path) and _same_depth(p, path)]
            if not matches:
                raise NotFound(f"no source files were specified (no match for {pattern})")
            return [self.resolve(p, pattern) for p in matches]
        return [self.resolve(path, pattern)]

    def resolve(self, path: str, source: str) -> str:
        """`path` with every symlink in it followed, staying inside the context.

        Raises InvalidArgument when a link points out, NotFound when the path is absent.
        """
        parts, done, hops = path.split("/") if path != "." else [], [], 0
        while parts:
            part = parts.pop(0)
            current = "/".join([*done, part])
            entry = self.entries.get(current)
            if entry is None:
                raise NotFound(
                    f"file not found in build context or excluded by .dockerignore: stat {source}: file does not exist"
                )
            if entry.type is EntryType.SYMLINK:
                hops += 1
                if hops > _MAX_LINKS:
                    raise InvalidArgument(f"too many levels of symbolic links: {source}")
                target = entry.linkname
                joined = (
                    target.lstrip("/") if target.startswith("/") else posixpath.join(*done, target) if done else target
                )
                cleaned = posixpath.normpath(joined)
                if cleaned == ".." or cleaned.startswith("../") or target.startswith("/"):
                    raise InvalidArgument(
                        f"forbidden path outside the build context: {source} (symlink {current} -> {target})"
                    )
                parts = ([] if cleaned == "." else cleaned.split("/")) + parts
                done = []
                continue
            done.append(part)
        return "/".join(done) or "."

    def entry(self, path: str) -> Entry:
        if path == ".":
            return Entry(".", EntryType.DIRECTORY, 0o755)
        return self.entries[path]

    def walk(self, directory: str) -> list[str]:
        """Every path under `directory` (the context root for "."), parents first, sorted."""
        if self._children is None:
            self._children = {}
            for path in sorted(self.entries):
                self._children.setdefault(posixpath.dirname(path) or ".", []).append(path)
        return _walk(self._children, directory, [])

    def checksum(self, paths: Iterable[str]) -> str:
        """A digest of the named entries and, for directories, everything under them."""
        hasher = hashlib.sha256()
        for path in paths:
            hasher.update(f"{path}\0{self.entry(path).digest}\0".encode())
            if self.entry(path).type is EntryType.DIRECTORY:
                for child in self.walk(path):
                    hasher.update(f"{child}\0{self.entries[child].digest}\0".encode())
        return hasher.hexdigest()


class Spool:
    """The context's file data: in memory up to `limit` bytes, then in a file under `directory`."""

    def __init__(self, directory: Path, limit: int = 64 << 20) -> None:
        self._directory, self._limit = directory, limit
        self._memory = bytearray()
        self._file: BinaryIO | None = None
        self.size = 0

    def write(self, data: bytes) -> None:
        if self._file is None and self.size + len(data) > self._limit:
            self._file = tempfile.TemporaryFile(dir=self._directory, prefix="build-context-")
            self._file.write(self._memory)
            self._memory = bytearray()
        if self._file is None:
            self._memory += data
        else:
            self._file.write(data)
        self.size += len(data)

    def read_at(self, offset: int, size: int) -> bytes:
        if self._file is None:
            return bytes(self._memory[offset : offset + size])
        self._file.flush()
        return os.pread(self._file.fileno(), size, offset)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._memory = bytearray()


class _Slice:
    """read() over one file's bytes in the spool."""

    def __init__(self, spool: Spool, offset: int, size: int) -> None:
        self._spool, self._position, self._end = spool, offset, offset + size

    def read(self, size: int = -1) -> bytes:
        left = self._end - self._position
        size = left if size < 0 else min(size, left, _COPY_CHUNK)
        data = self._spool.read_at(self._position, size) if size else b""
        self._position += len(data)
        return data


def _walk(children: dict[str, list[str]], directory: str, out: list[str]) -> list[str]:
    for child in children.get(directory, []):
        out.append(child)
        if child in children:
            _walk(children, child, out)
    return out


def clean(name: str) -> str:
    """A context path made relative and cleaned lexically ("." for the root)."""
    return posixpath.normpath(name.lstrip("/")) if name.strip("/") else "."


def _same_depth(path: str, pattern: str) -> bool:
    """filepath.Match never lets `*` cross a '/': a match has as many parts as the pattern."""
    return path.count("/") == pattern.count("/")


def _add_implied_directories(entries: dict[str, Entry]) -> None:
    for path in list(entries):
        parent = posixpath.dirname(path)
        while parent and parent not in entries:
            entries[parent] = Entry(parent, EntryType.DIRECTORY, 0o755, digest=_DIR_DIGEST)
            parent = posixpath.dirname(parent)


_DIR_DIGEST = hashlib.sha256(b"5 755 \0").hexdigest()
