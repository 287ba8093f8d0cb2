"""The content store on local disk (containerd plugins/content/local, simplified).

    <root>/blobs/sha256/<hex>     published blobs, read-only, immutable
    <root>/ingest/<random>        a blob being written; renamed into blobs/ once verified

A writer hashes as it writes, fsyncs, checks the expected digest and size, and publishes by
one atomic rename, so a blob is visible only when complete and correct. A writer that fails,
is aborted, or leaves its `with` block without commit() removes its ingest file.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dockyard.atomic import fsync_dir
from dockyard.errors import InvalidArgument, NoSpace, NotFound
from dockyard.oci.digest import Digest
from dockyard.paths import DataRoot

_HEX64 = re.compile(r"^[a-f0-9]{64}$")


class LocalWriter:
    """One ingest: `ingest/<random>` until commit() renames it into `blobs/sha256/`."""

    def __init__(self, store: LocalContentStore, expected: Digest | None, size: int | None) -> None:
        self._store = store
        self._expected = expected
        self._size = size
        self._hash = hashlib.sha256()
        self._offset = 0
        self.path = store.root.ingest / secrets.token_hex(16)
        store._open.add(self.path)  # before the file exists: clean_ingests() never sees it unclaimed
        self._file: BinaryIO | None = None
        try:
            with NoSpace.translating(self.path):
                self._file = open(self.path, "xb")
        except BaseException:
            store._open.discard(self.path)
            raise

    @property
    def offset(self) -> int:
        """Bytes written so far (where a resumed download continues)."""
        return self._offset

    def write(self, data: bytes | memoryview) -> None:
        if self._file is None:
            raise InvalidArgument("write to a closed content writer")
        with NoSpace.translating(self.path):
            self._file.write(data)
        self._hash.update(data)
        self._offset += len(data)

    def commit(self) -> Digest:
        """Verify size and digest, fsync, and publish by rename.

        Raises:
            InvalidArgument: the bytes do not match the expected digest or size (the ingest is removed).
        """
        if self._file is None:
            raise InvalidArgument("commit of a closed content writer")
        digest = Digest.from_hex(self._hash.hexdigest())
        try:
            if self._size is not None and self._offset != self._size:
                raise InvalidArgument(f"unexpected commit size {self._offset}, expected {self._size}")
            if self._expected is not None and digest != self._expected:
                raise InvalidArgument(f"unexpected commit digest {digest}, expected {self._expected}")
            with NoSpace.translating(self.path):
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
            self._file = None
            self._store._publish(self.path, digest)
        finally:
            self.abort()
        return digest

    def abort(self) -> None:
        """Drop the ingest; safe to call twice or after commit()."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass  # a full disk fails the flush of what is being dropped anyway
            self._file = None
        self.path.unlink(missing_ok=True)
        self._store._open.discard(self.path)

    def __enter__(self) -> LocalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


class LocalContentStore:
    """ContentStore over `blobs/sha256/<hex>` under a data root."""

    def __init__(self, root: DataRoot) -> None:
        self.root = root
        self._blobs = root.blobs / "sha256"
        self._blobs.mkdir(parents=True, exist_ok=True)
        root.ingest.mkdir(parents=True, exist_ok=True)
        self._open: set[Path] = set()  # ingests of writers not yet committed or aborted

    def _blob(self, digest: Digest) -> Path:
        return self._blobs / Digest(digest).hex

    def exists(self, digest: Digest) -> bool:
        return self._blob(digest).is_file()

    def size(self, digest: Digest) -> int:
        return self.path(digest).stat().st_size

    def path(self, digest: Digest) -> Path:
        path = self._blob(digest)
        if not path.is_file():
            raise NotFound(f"content digest {digest}: not found")
        return path

    def open(self, digest: Digest) -> BinaryIO:
        try:
            return open(self._blob(digest), "rb")
        except FileNotFoundError:
            raise NotFound(f"content digest {digest}: not found") from None

    def read(self, digest: Digest) -> bytes:
        """The whole blob; for manifests and configs, never for layers."""
        with self.open(digest) as f:
            return f.read()

    def writer(self, expected: Digest | None = None, size: int | None = None) -> LocalWriter:
        return LocalWriter(self, Digest(expected) if expected else None, size)

    def write_blob(self, data: bytes, expected: Digest | None = None) -> Digest:
        """Write a small blob in one go (manifests, configs)."""
        with self.writer(expected, len(data)) as w:
            w.write(data)
            return w.commit()

    def _publish(self, ingest: Path, digest: Digest) -> None:
        """Make a verified ingest file the blob of `digest` (atomic; an existing blob wins)."""
        target = self._blob(digest)
        os.chmod(ingest, 0o444)
        os.replace(ingest, target)
        fsync_dir(self._blobs)

    def delete(self, digest: Digest) -> None:
        try:
            self._blob(digest).unlink()
        except FileNotFoundError:
            raise NotFound(f"content digest {digest}: not found") from None

    def list(self) -> Iterator[Digest]:
        for entry in sorted(os.listdir(self._blobs)):
            if _HEX64.match(entry):
                yield Digest.from_hex(entry)

    def clean_ingests(self) -> int:
        """Remove every ingest no writer has open (all of them at start-up); return how many."""
        removed = 0
        for entry in self.root.ingest.iterdir():
            if entry in self._open:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
        return removed
