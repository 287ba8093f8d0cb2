"""The build context: a tar read once, spooled to one file and hashed as it streams in.

    context = BuildContext.receive(body, spool)   every entry indexed, file data in `spool`
    context.read_text("Dockerfile")
    context.exclude(patterns)                      drop .dockerignore matches
    context.sources("src/*.py")                    glob, cleaned, symlinks followed inside
    context.checksum(paths)                        what a COPY's cache key depends on
    context.copy_data(entry, fd)                   one file's bytes, out of the spool

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
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import BinaryIO

from dockyard.archive import EntryType, decompressed_chunks
from dockyard.archive.reader import TarReader
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

    def __init__(self, entries: dict[str, Entry], spool: BinaryIO) -> None:
        self.entries = entries
        self._spool = spool
        self._children: dict[str, list[str]] | None = None

    @classmethod
    def receive(cls, body: BinaryIO, spool: BinaryIO) -> BuildContext:
        """Read a (possibly compressed) tar from `body` once, writing file data to `spool`.

        Raises InvalidArgument for a malformed tar or an entry that climbs out of the context.
        """
        reader = TarReader(decompressed_chunks(body))
        entries: dict[str, Entry] = {}
        offset = 0
        for member in reader:
            path = clean(member.name)
            if path == "." and member.type is EntryType.DIRECTORY:
                continue
            if path == ".." or path.startswith("../") or path == ".":
                raise InvalidArgument(f"invalid build context: entry {member.name!r} is outside of the context")
            if member.type is EntryType.HARDLINK:
                target = entries.get(clean(member.linkname))
                if target is None:
                    raise InvalidArgument(f"invalid build context: hardlink {member.name} to a missing file")
                entries[path] = replace(target, path=path)
                continue
            hasher = hashlib.sha256(f"{member.type.value.decode()} {member.mode:o} {member.linkname}\0".encode())
            start = offset
            for piece in reader.data():
                hasher.update(piece)
                spool.write(piece)
                offset += len(piece)
            entries[path] = Entry(
                path,
                member.type,
                member.mode & 0o7777,
                member.size if member.type is EntryType.REGULAR else 0,
                member.mtime_ns // 1_000_000_000,
                member.linkname,
                start,
                hasher.hexdigest(),
            )
        reader.drain()
        spool.flush()
        _add_implied_directories(entries)
        return cls(entries, spool)

    # -- reading ------------------------------------------------------------------------

    def read_text(self, path: str) -> str:
        """A regular file's text (the Dockerfile, .dockerignore). Raises NotFound."""
        entry = self.entries.get(clean(path))
        if entry is None or entry.type is not EntryType.REGULAR:
            raise NotFound(f"Cannot locate specified Dockerfile: {path}")
        self._spool.seek(entry.offset)
        return self._spool.read(entry.size).decode("utf-8", errors="replace")

    def head(self, entry: Entry, size: int) -> bytes:
        """The first `size` bytes of a regular file."""
        return os.pread(self._spool.fileno(), min(size, entry.size), entry.offset)

    def open(self, entry: Entry) -> BinaryIO:
        """A reader of one regular file's bytes."""
        return _Slice(self._spool.fileno(), entry.offset, entry.size)  # type: ignore[return-value]

    def copy_data(self, entry: Entry, fd: int) -> None:
        """Write one regular file's bytes from the spool to `fd`."""
        left, position = entry.size, entry.offset
        while left:
            data = os.pread(self._spool.fileno(), min(left, _COPY_CHUNK), position)
            if not data:
                raise InvalidArgument(f"build context truncated at {entry.path}")
            os.write(fd, data)
            position += len(data)
            left -= len(data)

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


class _Slice:
    """read() over one file's bytes in the spool (positional reads: the spool is shared)."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self._fd, self._position, self._end = fd, offset, offset + size

    def read(self, size: int = -1) -> bytes:
        left = self._end - self._position
        size = left if size < 0 else min(size, left)
        data = os.pread(self._fd, size, self._position) if size else b""
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
