"""The content store contract (after containerd core/content/content.go).

Lifecycle of a blob: `writer()` opens an ingest (a temp file under `ingest/`), the caller
`write()`s bytes, `commit()` checks size and digest and renames the file into
`blobs/sha256/<hex>`; only then does `exists()` see it. An ingest that is not committed is
removed by `abort()`, or by `clean_ingests()` once no writer has it open. Blobs are immutable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from dockyard.oci.digest import Digest


class ContentWriter(Protocol):
    """One blob being written. A context manager: leaving without commit() aborts."""

    def write(self, data: bytes) -> None: ...
    def commit(self) -> Digest:
        """Verify (expected digest and size, when given) and publish.

        Raises:
            InvalidArgument: the bytes do not match the expected digest or size.
        """

    def abort(self) -> None: ...
    @property
    def offset(self) -> int: ...
    def __enter__(self) -> ContentWriter: ...
    def __exit__(self, *exc: object) -> None: ...


class Provider(Protocol):
    def exists(self, digest: Digest) -> bool: ...
    def size(self, digest: Digest) -> int:
        """Raises NotFound."""

    def open(self, digest: Digest) -> BinaryIO:
        """A reader positioned at 0. Raises NotFound."""

    def path(self, digest: Digest) -> Path:
        """Where the blob lives on disk (for zero-copy reads). Raises NotFound."""


class Ingester(Protocol):
    def writer(self, expected: Digest | None = None, size: int | None = None) -> ContentWriter: ...


class Manager(Protocol):
    def delete(self, digest: Digest) -> None: ...
    def list(self) -> Iterator[Digest]: ...
    def clean_ingests(self) -> int:
        """Remove every ingest no writer has open (left by a crash or a dropped writer)."""


class ContentStore(Provider, Ingester, Manager, Protocol):
    """Provider + Ingester + Manager."""
