"""Blob upload sessions: start, append chunks in order, report progress, finish with a digest check, cancel.

An upload's bytes live in `uploads/<id>/data` and are never visible as a blob. Each session has
a lock and a state (`open` -> `finishing` -> gone): a chunk is written only while the request
holds the lock and the session is `open`, and `finish()` keeps the lock from its last chunk to
the publish, so nothing can write into an upload once finishing starts. `finish()` moves the
file to a private name under tmp/ (which no request can open), checks its digest and renames it
into place as the blob. The data file is also flocked while written and its inode re-checked
after locking, so even a second process on the same storage cannot write into a published blob.

Sessions are bounded (in total and per client, 429 TOOMANYREQUESTS past either) and expire
when untouched for `ttl` seconds. A chunk that fails half way (client gone, too large, timeout)
is cut back to where it started, so the upload can be resumed from the reported offset.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.oci.digest import Digest
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.storage import Storage

_HASH_READ = 1 << 20


@dataclass(slots=True)
class Session:
    """One upload in progress: its repository, who opened it, its lock, state and running hash."""

    name: str
    client: str
    touched: float
    state: str = "open"
    lock: threading.Lock = field(default_factory=threading.Lock)
    hashed: tuple[int, hashlib._Hash] | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-upload size, sessions open at once (in total and per client), and idle lifetime (s)."""

    max_size: int
    max_sessions: int = 1024
    max_per_client: int = 64
    ttl: float = 3600.0


def _hasher(path: Path, session: Session, size: int) -> hashlib._Hash:
    """The running hash of the first `size` bytes at `path`: the session's, or read from the file."""
    if session.hashed is not None and session.hashed[0] == size == os.stat(path).st_size:
        return session.hashed[1].copy()
    hasher = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(_HASH_READ):
            hasher.update(chunk)
    return hasher


def _unknown(upload_id: str) -> RegistryError:
    return RegistryError(errcodes.BLOB_UPLOAD_UNKNOWN, {"uuid": upload_id[:64]})


class Uploads:
    """Upload sessions over a Storage; sessions found on disk at start are adopted (client unknown)."""

    def __init__(self, storage: Storage, limits: Limits) -> None:
        self.storage = storage
        self.limits = limits
        self._sessions: dict[str, Session] = {}
        self._guard = threading.Lock()
        self._adopt()

    @property
    def max_size(self) -> int:
        return self.limits.max_size

    def _adopt(self) -> None:
        for directory in self.storage.layout.uploads.iterdir():
            try:
                name = (directory / "repository").read_text()
                touched = os.stat(directory / "data").st_mtime
            except OSError:
                continue
            self._sessions[directory.name] = Session(name, "", touched)

    def start(self, name: str, client: str = "") -> str:
        """Open a new upload for `name` on behalf of `client` and return its id. Raises TOOMANYREQUESTS."""
        self.expire()
        upload_id = str(uuid.uuid4())
        with self._guard:
            mine = sum(1 for s in self._sessions.values() if s.client == client)
            if len(self._sessions) >= self.limits.max_sessions or mine >= self.limits.max_per_client:
                limit = self.limits.max_sessions if mine < self.limits.max_per_client else self.limits.max_per_client
                raise RegistryError(errcodes.TOOMANYREQUESTS, {"uploads": limit}, "too many upload sessions")
            self._sessions[upload_id] = Session(name, client, time.time())
        directory = self.storage.layout.upload(upload_id)
        directory.mkdir(parents=True)
        (directory / "data").touch()
        (directory / "repository").write_text(name)
        return upload_id

    def expire(self) -> list[str]:
        """Drop sessions untouched for longer than the ttl (not those a request holds); returns their ids."""
        cutoff = time.time() - self.limits.ttl
        with self._guard:
            stale = [(i, s) for i, s in self._sessions.items() if s.touched < cutoff]
        dropped = []
        for upload_id, session in stale:
            if session.lock.acquire(blocking=False):
                try:
                    if session.state == "open" and session.touched < cutoff:
                        self._drop(upload_id, session)
                        dropped.append(upload_id)
                finally:
                    session.lock.release()
        return dropped

    def _session(self, name: str, upload_id: str) -> Session:
        with self._guard:
            session = self._sessions.get(upload_id)
        if session is None or session.name != name or session.state != "open":
            raise _unknown(upload_id)
        return session

    @contextmanager
    def _held(self, name: str, upload_id: str) -> Iterator[Session]:
        """The session, locked for this request and still open. Raises BLOB_UPLOAD_UNKNOWN or busy."""
        session = self._session(name, upload_id)
        if not session.lock.acquire(blocking=False):
            raise RegistryError(errcodes.BLOB_UPLOAD_INVALID, None, "upload busy in another request")
        try:
            if session.state != "open":
                raise _unknown(upload_id)
            yield session
            session.touched = time.time()
        finally:
            session.lock.release()

    def _path(self, upload_id: str) -> Path:
        return self.storage.layout.upload(upload_id) / "data"

    def offset(self, name: str, upload_id: str) -> int:
        """Bytes received so far. Raises BLOB_UPLOAD_UNKNOWN."""
        self._session(name, upload_id)
        try:
            return os.stat(self._path(upload_id)).st_size
        except FileNotFoundError:
            raise _unknown(upload_id) from None

    def append(self, name: str, upload_id: str, chunks: Iterable[bytes], start: int | None = None) -> int:
        """Append one chunk; `start` (from Content-Range) must equal the current offset. Returns the new offset.

        Raises:
            RegistryError: BLOB_UPLOAD_UNKNOWN, RANGE_INVALID (416) out of order, TOO_LARGE past the limit.
        """
        with self._held(name, upload_id) as session:
            return self._write(upload_id, session, chunks, start)

    def _open_locked(self, upload_id: str) -> int:
        """The upload file opened for appending, flocked, and still the file at its path."""
        path = self._path(upload_id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except FileNotFoundError:
            raise _unknown(upload_id) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.stat(path).st_ino:
                raise FileNotFoundError(path)
        except BlockingIOError:
            os.close(fd)
            raise RegistryError(errcodes.BLOB_UPLOAD_INVALID, None, "upload busy in another request") from None
        except FileNotFoundError:
            os.close(fd)
            raise _unknown(upload_id) from None
        return fd

    def _write(self, upload_id: str, session: Session, chunks: Iterable[bytes], start: int | None) -> int:
        fd = self._open_locked(upload_id)
        try:
            offset = os.fstat(fd).st_size
            if start is not None and start != offset:
                raise RegistryError(errcodes.RANGE_INVALID, {"offset": offset})
            hasher = _hasher(self._path(upload_id), session, offset)
            written = offset
            try:
                for chunk in chunks:
                    written += len(chunk)
                    if written > self.limits.max_size:
                        raise RegistryError(
                            errcodes.TOO_LARGE, {"limit": self.max_size}, "upload exceeds the size limit"
                        )
                    os.write(fd, chunk)
                    hasher.update(chunk)
            except BaseException:
                os.ftruncate(fd, offset)
                raise
            session.hashed = (written, hasher)
            return written
        finally:
            os.close(fd)

    def finish(self, name: str, upload_id: str, digest: Digest, chunks: Iterable[bytes]) -> None:
        """Append the last chunk, then (no longer writable) check the whole upload against `digest` and publish it.

        Raises:
            RegistryError: DIGEST_INVALID when the bytes do not match (the upload is discarded).
        """
        with self._held(name, upload_id) as session:
            size = self._write(upload_id, session, chunks, None)
            session.state = "finishing"
            private = self.storage.layout.tmp / f"upload-{uuid.uuid4().hex}"
            try:
                os.replace(self._path(upload_id), private)
                hasher = _hasher(private, session, size)
                if hasher.hexdigest() != digest.hex:
                    raise RegistryError(errcodes.DIGEST_INVALID, {"digest": str(digest)})
                self.storage.commit_blob(name, private, digest)
            finally:
                private.unlink(missing_ok=True)
                self._drop(upload_id, session)

    def cancel(self, name: str, upload_id: str) -> None:
        """Drop an upload and its bytes. Raises BLOB_UPLOAD_UNKNOWN, or BLOB_UPLOAD_INVALID while a request writes it."""
        with self._held(name, upload_id) as session:
            self._drop(upload_id, session)

    def discard(self, upload_id: str) -> None:
        """Drop an upload this request started (no ownership check, no lock: nobody else knows its id yet)."""
        with self._guard:
            session = self._sessions.get(upload_id)
        if session is not None:
            self._drop(upload_id, session)

    def _drop(self, upload_id: str, session: Session) -> None:
        session.state = "gone"
        with self._guard:
            self._sessions.pop(upload_id, None)
        shutil.rmtree(self.storage.layout.upload(upload_id), ignore_errors=True)
