"""Keys (blob digests, chain IDs) held by work in progress, so clean-up leaves them alone."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


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
