"""What a COPY or ADD copies: its sources resolved, checksummed, and how to write them.

    plan = yield from resolve_sources(builder, "COPY", sources, heredocs, from_)
    plan.checksum        the cache key's share: content and metadata of every source
    plan.applier(...)    the change to run on a mounted rootfs when the cache misses

Sources are the build context's files (resolved inside it), inline heredoc files, another
stage or image (`--from`, read from a mount of it), and for ADD, URLs (downloaded once)
and local tar archives (extracted, never outside the destination).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import os
import posixpath
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.archive import EntryType, decompressed_chunks, detect, layer_filter
from dockyard.archive.compression import Compression
from dockyard.archive.reader import TarReader
from dockyard.build import copier
from dockyard.build.context import BuildContext
from dockyard.build.layertar import LayerWriter
from dockyard.errors import DockyardError, InvalidArgument, NotFound
from dockyard.runtime.rootpath import resolve_in_root

if TYPE_CHECKING:
    from dockyard.build.builder import Builder

_TAR_MAGIC = (b"ustar\x0000", b"ustar  \x00")


@dataclass(slots=True)
class Source:
    """One resolved source: a name for the destination rule and what to write."""

    name: str
    is_dir: bool
    items: Callable[[Path | None], Iterator[copier.Item]] | None = None
    archive: object = None  # a context Entry of a local tar that ADD extracts


@dataclass(slots=True)
class Plan:
    """One COPY/ADD resolved: its cache checksum, its history description, and its sources
    (from the context, or `patterns` in the `--from` image); `close()` drops downloads."""

    checksum: str
    description: str
    sources: list[Source]
    context: BuildContext | None
    from_image: str | None = None
    patterns: tuple[str, ...] = ()  # --from sources, resolved once the image is mounted
    worker: object = None
    temporary: list[str] = field(default_factory=list)

    def applier(self, dest: str, workdir: str, chown: str, chmod: str, what: str, now: int):
        """The worker's `write(rootfs, layer)` for this COPY/ADD."""

        def write(rootfs: Path, layer: LayerWriter) -> None:
            copy = copier.LayerCopy(rootfs, layer, copier.attributes(rootfs, chown, chmod), now)
            if self.from_image is None:
                self._write(copy, None, dest, workdir, what)
                return
            with self.worker.mounted(self.from_image) as tree:
                self._write(copy, tree, dest, workdir, what)

        return write

    def _write(self, copy: copier.LayerCopy, tree: Path | None, dest, workdir, what) -> None:
        sources = self.sources if tree is None else [s for p in self.patterns for s in _tree_sources(tree, p)]
        multiple = len(sources) > 1 or len(self.patterns) > 1
        for source in sources:
            if source.archive is not None:
                _extract(self.context, source.archive, copy, dest, workdir)
                continue
            target = copier.target_of(copy.rootfs, dest, workdir, source.name, source.is_dir, multiple, what)
            copy.write(target, source.items(tree), self.context)

    def close(self) -> None:
        for path in self.temporary:
            os.unlink(path)
        self.temporary.clear()


def resolve_sources(b: Builder, index: int, what: str, sources, heredocs, from_: str) -> Generator[dict, None, Plan]:
    """Resolve every source of one COPY/ADD in stage `index`; yields pull messages for a
    `--from` image."""
    if from_:
        image_id = yield from _from_image(b, index, from_)
        return Plan(_digest([image_id, *sources]), f"from:{image_id[7:19]}", [], None, image_id, sources, b.worker)
    context = b.context
    plan = Plan("", "", [], context)
    hasher = hashlib.sha256()
    try:
        for heredoc in heredocs:
            data = heredoc.data.encode()
            hasher.update(f"heredoc\0{heredoc.name}\0".encode() + data)
            plan.sources.append(_inline_source(heredoc.name, data))
        for pattern in sources:
            if what == "ADD" and _is_url(pattern):
                path, digest, name = _download(pattern, b.scratch_dir)
                plan.temporary.append(path)
                hasher.update(f"url\0{pattern}\0{digest}\0".encode())
                plan.sources.append(_file_source(name, path))
                continue
            for path in context.sources(pattern):
                hasher.update(f"context\0{path}\0{context.checksum([path])}\0".encode())
                entry = context.entry(path)
                if what == "ADD" and entry.type is EntryType.REGULAR and _is_archive(context, entry):
                    plan.sources.append(Source(posixpath.basename(path), True, None, entry))
                    continue
                plan.sources.append(_context_source(context, path))
    except BaseException:
        plan.close()
        raise
    plan.checksum = hasher.hexdigest()
    kind = "multi" if len(plan.sources) > 1 else "dir" if plan.sources and plan.sources[0].is_dir else "file"
    plan.description = f"{kind}:{plan.checksum}"
    return plan


def _from_image(b: Builder, index: int, ref: str) -> Generator[dict, None, str]:
    """The image ID a `--from` names: an earlier stage (by name or index) or an image."""
    stage = b.earlier_stage(index, ref)
    if stage is not None:
        if stage.image_id is None:
            raise InvalidArgument(f"stage {ref} has no filesystem")
        return stage.image_id
    image_id = b.worker.find(ref)
    if image_id is None:
        yield from b.worker.pull(ref, b.options.platform or None)
        image_id = b.worker.find(ref)
    if image_id is None:
        raise NotFound(f"No such image: {ref}")
    return image_id


def _context_source(context: BuildContext, path: str) -> Source:
    is_dir = context.entry(path).type is EntryType.DIRECTORY
    name = posixpath.basename(path) if path != "." else ""
    return Source(name, is_dir, lambda _tree: copier.context_items(context, path))


def _tree_sources(tree: Path, pattern: str) -> list[Source]:
    """A `--from` source in the mounted image: every match, each a file or a directory."""
    sources = []
    for path in _glob_tree(tree, pattern):
        is_dir = os.path.isdir(resolve_in_root(str(tree), path))
        sources.append(Source(posixpath.basename(path), is_dir, lambda t, p=path: copier.tree_items(t, p)))
    return sources


def _glob_tree(tree: Path, pattern: str) -> list[str]:
    path = "/" + posixpath.normpath(pattern.lstrip("/"))
    if not any(c in path for c in "*?["):
        return [path]
    parent, base = posixpath.split(path)
    host = resolve_in_root(str(tree), parent)
    names = sorted(n for n in os.listdir(host) if fnmatch.fnmatchcase(n, base)) if os.path.isdir(host) else []
    if not names:
        raise NotFound(f"no source files were specified (no match for {pattern})")
    return [posixpath.join(parent, n) for n in names]


def _inline_source(name: str, data: bytes) -> Source:
    item = copier.Item("", EntryType.REGULAR, 0o644, 0, 0, 0, "", data)
    return Source(posixpath.basename(name), False, lambda _tree: iter([item]))


def _file_source(name: str, path: str) -> Source:
    st = os.stat(path)
    item = copier.Item("", EntryType.REGULAR, 0o600, 0, 0, int(st.st_mtime), "", path)
    return Source(name, False, lambda _tree: iter([item]))


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _download(url: str, directory: Path) -> tuple[str, str, str]:
    """Fetch an ADD URL into a file; return (path, sha256, name). Raises InvalidArgument."""
    name = posixpath.basename(urllib.parse.urlparse(url).path) or "__unnamed__"
    fd, path = tempfile.mkstemp(prefix="add-", dir=directory)
    hasher = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            while data := response.read(1 << 20):
                hasher.update(data)
                out.write(data)
            modified = response.headers.get("Last-Modified")
        if modified:
            stamp = int(parsedate_to_datetime(modified).timestamp())
            os.utime(path, (stamp, stamp))
    except (OSError, urllib.error.URLError, ValueError) as exc:
        os.unlink(path)
        raise InvalidArgument(f"failed to download {url}: {exc}") from None
    return path, hasher.hexdigest(), name


def _is_archive(context: BuildContext, entry) -> bool:
    """Whether ADD extracts this file: a tar, plain or compressed (as docker decides)."""
    head = context.head(entry, 600)
    kind = detect(head[:16])
    if kind is Compression.PLAIN:
        return head[257:265] in _TAR_MAGIC
    try:
        chunks = decompressed_chunks(context.open(entry))
        first = next(chunks, b"")
        return first[257:265] in _TAR_MAGIC
    except DockyardError:
        return False


def _extract(context: BuildContext | None, entry, copy: copier.LayerCopy, dest: str, workdir: str) -> None:
    """ADD of a local tar: its entries under dest in the layer; none may climb out of dest."""
    assert context is not None
    absolute = posixpath.normpath(dest if dest.startswith("/") else posixpath.join(workdir, dest))
    real = copy.directory(absolute)
    reader = TarReader(decompressed_chunks(context.open(entry)))
    for member in reader:
        try:
            member = layer_filter(member, Path(absolute))
        except InvalidArgument as exc:
            raise InvalidArgument(f"{entry.path}: {exc}") from None
        if member.name == ".":
            continue
        renamed = {"name": posixpath.join(real, member.name).lstrip("/")}
        if member.type is EntryType.HARDLINK:
            renamed["linkname"] = posixpath.join(real, member.linkname).lstrip("/")
        copy.directory(posixpath.join(real, posixpath.dirname(member.name)))
        copy.layer.member(dataclasses.replace(member, **renamed), reader.data())
    reader.drain()


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
