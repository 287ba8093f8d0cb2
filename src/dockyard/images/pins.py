"""Keys (blob digests, chain IDs) held by work in progress, so the collector leaves them alone.

KeyedLocks   a pull holds every blob and chain ID of its image, named before it fetches
Leases       a load, import, commit, save or push holds each blob it writes from its
             publication on (or, with `Lease.hold`, one it is about to write or read)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from dockyard.content.store import ContentWriter, Ingester
from dockyard.oci.digest import Digest


class KeyedLocks:
    """One lock per key, taken in sorted order so two holders never deadlock."""

    def __init__(self) -> None:
        self._locks: dict[str, list] = {}  # key -> [lock, users]
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, keys: Iterable[str]) -> Iterator[None]:
        ordered = sorted(set(keys))
        with self._guard:
            entries = [self._locks.setdefault(k, [threading.Lock(), 0]) for k in ordered]
            for entry in entries:
                entry[1] += 1
        taken = []
        try:
            for entry in entries:
                entry[0].acquire()
                taken.append(entry)
            yield
        finally:
            for entry in reversed(taken):
                entry[0].release()
            with self._guard:
                for key, entry in zip(ordered, entries, strict=False):
                    entry[1] -= 1
                    if entry[1] == 0:
                        del self._locks[key]

    def held(self) -> set[str]:
        """The keys someone holds or waits for right now."""
        with self._guard:
            return set(self._locks)


class Leases:
    """Blobs that loads, imports and commits have written but not yet recorded in an image.

    Unlike a pull, such work cannot name its blobs in advance (their digests are known once
    written), so it takes a lease and writes through `Lease.writer`: publishing a blob and
    adding it to the lease happen under `guard`, which the collector also holds while it
    checks and deletes a blob, so no blob is collected between its publication and its lease.
    """

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self._held: dict[str, int] = {}

    @contextmanager
    def lease(self) -> Iterator[Lease]:
        """A lease held for the block; what it holds is released when the block ends."""
        lease = Lease(self)
        try:
            yield lease
        finally:
            with self.guard:
                for key in lease.keys:
                    self._held[key] -= 1
                    if self._held[key] == 0:
                        del self._held[key]

    def _add(self, lease: Lease, key: str) -> None:
        """Hold `key` for `lease`; the caller holds `guard`."""
        if key not in lease.keys:
            lease.keys.add(key)
            self._held[key] = self._held.get(key, 0) + 1

    def held(self) -> set[str]:
        """The keys some lease holds; call with `guard` held for a check that stays true."""
        return set(self._held)


class Lease:
    """One piece of work's hold on the blobs it wrote (see Leases)."""

    def __init__(self, leases: Leases) -> None:
        self._leases = leases
        self.keys: set[str] = set()

    def hold(self, key: str) -> None:
        """Hold a blob from now on, whether it exists yet or not (before writing or reading it)."""
        with self._leases.guard:
            self._leases._add(self, key)

    def writer(self, content: Ingester, expected: str | None = None, size: int | None = None) -> _LeasedWriter:
        """A content writer whose blob this lease holds from the moment it is published."""
        return _LeasedWriter(self, content.writer(expected, size))

    def commit(self, writer: ContentWriter) -> Digest:
        """Commit `writer` and hold its blob, as one step for the collector."""
        with self._leases.guard:
            digest = writer.commit()
            self._leases._add(self, digest)
        return digest


class _LeasedWriter:
    """A ContentWriter whose commit() goes through its lease."""

    def __init__(self, lease: Lease, inner: ContentWriter) -> None:
        self._lease, self._inner = lease, inner

    @property
    def offset(self) -> int:
        return self._inner.offset

    def write(self, data: bytes) -> None:
        self._inner.write(data)

    def commit(self) -> Digest:
        return self._lease.commit(self._inner)

    def abort(self) -> None:
        self._inner.abort()

    def __enter__(self) -> _LeasedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.abort()
