"""The registry's storage layout, in one place, and its two primitives: atomic writes and the GC barrier.

    <storage>/
      blobs/sha256/<hex>                          every verified blob, shared by all repositories
      uploads/<id>/data                           bytes of an upload in progress (never visible as a blob)
      uploads/<id>/repository                     the repository that started it
      repositories/<name>/_layers/sha256/<hex>    empty file: the blob is linked into <name>
      repositories/<name>/_manifests/sha256/<hex> the manifest's media type: it is a revision of <name>
      repositories/<name>/_tags/<tag>             the digest the tag points at
      repositories/<name>/_referrers/<subject-hex>/<hex>   referrer descriptor (JSON)
      tmp/                                        temp files, renamed into place (same filesystem)
      gc.lock                                     flock: writers hold it shared, a GC sweep exclusive

A blob becomes visible only by rename after its digest was checked; links, tags and manifests
are written to tmp/, fsynced and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dockyard import atomic
from dockyard.oci.digest import Digest


@dataclass(frozen=True, slots=True)
class Layout:
    """Maps every path under the storage root; creates nothing except through `create()`."""

    root: Path

    @property
    def blobs(self) -> Path:
        return self.root / "blobs" / "sha256"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def repositories(self) -> Path:
        return self.root / "repositories"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def lock(self) -> Path:
        return self.root / "gc.lock"

    def blob(self, digest: Digest) -> Path:
        return self.blobs / digest.hex

    def upload(self, upload_id: str) -> Path:
        return self.uploads / upload_id

    def repository(self, name: str) -> Path:
        return self.repositories / name

    def layer_link(self, name: str, digest: Digest) -> Path:
        return self.repository(name) / "_layers" / "sha256" / digest.hex

    def manifest_link(self, name: str, digest: Digest) -> Path:
        return self.repository(name) / "_manifests" / "sha256" / digest.hex

    def tag(self, name: str, tag: str) -> Path:
        return self.repository(name) / "_tags" / tag

    def referrers(self, name: str, subject: Digest) -> Path:
        return self.repository(name) / "_referrers" / subject.hex

    def create(self) -> None:
        """Make the top-level directories and the lock file (idempotent)."""
        for path in (self.blobs, self.uploads, self.repositories, self.tmp):
            path.mkdir(parents=True, exist_ok=True)
        self.lock.touch(exist_ok=True)

    def write_atomic(self, path: Path, data: bytes) -> None:
        """Write `data` through a temp file in tmp/ renamed onto `path` (fsynced), making its directory."""
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, data, temp_dir=self.tmp)

    @contextlib.contextmanager
    def locked(self, exclusive: bool) -> Iterator[None]:
        """Hold the GC barrier: shared for writers that reference blobs, exclusive for a sweep step."""
        fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)
