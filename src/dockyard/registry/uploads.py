"""Blob upload sessions: start, append chunks in order, report progress, finish with a digest check, cancel.

An upload's bytes live in `uploads/<id>/data` and are never visible as a blob; `finish()`
checks the digest of the whole upload and hands the file to `Storage.commit_blob`, which
renames it into place. A chunk that fails half way (client gone, too large, timeout) is cut
back to where it started, so the upload can be resumed from the reported offset.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import threading
import uuid
from collections.abc import Iterable

from dockyard.oci.digest import Digest
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.storage import Storage

_HASH_READ = 1 << 20
_MAX_CACHED_HASHES = 4096


class Uploads:
    """Upload sessions over a Storage, with a per-upload size limit."""

    def __init__(self, storage: Storage, max_size: int) -> None:
        self.storage = storage
        self.max_size = max_size
        self._hashes: dict[str, tuple[int, hashlib._Hash]] = {}
        self._guard = threading.Lock()

    def start(self, name: str) -> str:
        """Open a new upload for `name` and return its id."""
        upload_id = str(uuid.uuid4())
        directory = self.storage.layout.upload(upload_id)
        directory.mkdir(parents=True)
        (directory / "data").touch()
        (directory / "repository").write_text(name)
        return upload_id

    def _data(self, name: str, upload_id: str) -> str:
        try:
            uuid.UUID(upload_id)
            owner = (self.storage.layout.upload(upload_id) / "repository").read_text()
        except (ValueError, FileNotFoundError):
            owner = None
        if owner != name:
            raise RegistryError(errcodes.BLOB_UPLOAD_UNKNOWN, {"uuid": upload_id[:64]})
        return str(self.storage.layout.upload(upload_id) / "data")

    def offset(self, name: str, upload_id: str) -> int:
        """Bytes received so far. Raises BLOB_UPLOAD_UNKNOWN."""
        return os.stat(self._data(name, upload_id)).st_size

    @staticmethod
    def _claim(fd: int, start: int | None) -> int:
        """Lock the upload against a concurrent writer and check the chunk starts at its end."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RegistryError(errcodes.BLOB_UPLOAD_INVALID, None, "upload busy in another request") from None
        offset = os.fstat(fd).st_size
        if start is not None and start != offset:
            raise RegistryError(errcodes.RANGE_INVALID, {"offset": offset})
        return offset

    def _hasher(self, upload_id: str, path: str, offset: int) -> hashlib._Hash:
        with self._guard:
            cached = self._hashes.pop(upload_id, None)
        if cached is not None and cached[0] == offset:
            return cached[1]
        hasher = hashlib.sha256()
        with open(path, "rb") as src:
            while chunk := src.read(_HASH_READ):
                hasher.update(chunk)
        return hasher

    def append(self, name: str, upload_id: str, chunks: Iterable[bytes], start: int | None = None) -> int:
        """Append one chunk; `start` (from Content-Range) must equal the current offset. Returns the new offset.

        Raises:
            RegistryError: BLOB_UPLOAD_UNKNOWN, RANGE_INVALID (416) out of order, TOO_LARGE past the limit.
        """
        path = self._data(name, upload_id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except FileNotFoundError:
            raise RegistryError(errcodes.BLOB_UPLOAD_UNKNOWN, {"uuid": upload_id}) from None
        try:
            offset = self._claim(fd, start)
        except BaseException:
            os.close(fd)
            raise
        hasher = self._hasher(upload_id, path, offset)
        written = offset
        try:
            for chunk in chunks:
                written += len(chunk)
                if written > self.max_size:
                    raise RegistryError(errcodes.TOO_LARGE, {"limit": self.max_size}, "upload exceeds the size limit")
                os.write(fd, chunk)
                hasher.update(chunk)
        except BaseException:
            os.ftruncate(fd, offset)
            raise
        finally:
            os.close(fd)
        with self._guard:
            if len(self._hashes) >= _MAX_CACHED_HASHES:
                self._hashes.clear()  # only a cache: a missing hash is recomputed from the upload file
            self._hashes[upload_id] = (written, hasher)
        return written

    def finish(self, name: str, upload_id: str, digest: Digest, chunks: Iterable[bytes]) -> None:
        """Append the last chunk, check the whole upload against `digest`, publish it into `name`.

        Raises:
            RegistryError: DIGEST_INVALID when the bytes do not match (the upload is discarded).
        """
        size = self.append(name, upload_id, chunks)
        path = self._data(name, upload_id)
        hasher = self._hasher(upload_id, path, size)
        if hasher.hexdigest() != digest.hex:
            self.cancel(name, upload_id)
            raise RegistryError(errcodes.DIGEST_INVALID, {"digest": str(digest)})
        self.storage.commit_blob(name, self.storage.layout.upload(upload_id) / "data", digest)
        self.discard(upload_id)

    def cancel(self, name: str, upload_id: str) -> None:
        """Drop an upload and its bytes. Raises BLOB_UPLOAD_UNKNOWN."""
        self._data(name, upload_id)
        self.discard(upload_id)

    def discard(self, upload_id: str) -> None:
        """Drop an upload known to exist (no ownership check)."""
        with self._guard:
            self._hashes.pop(upload_id, None)
        shutil.rmtree(self.storage.layout.upload(upload_id), ignore_errors=True)
