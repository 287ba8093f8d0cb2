"""One SQLite database under the data root; one transaction per change.

SQLite in WAL mode commits atomically, so a daemon killed with SIGKILL at any moment leaves
either the old record or the new one, never half of either. Each package keeps its tables'
DDL next to the code that uses them and hands it to `Database.ensure_schema()`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dockyard.errors import NoSpace


class Database:
    """A thread-safe SQLite connection with a write transaction helper."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        self._wal = str(mode).lower() == "wal"  # unsynced commits are ordered only in WAL mode
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()

    def ensure_schema(self, ddl: str) -> None:
        """Apply `CREATE ... IF NOT EXISTS` statements (idempotent)."""
        with self._lock:
            self._conn.executescript(ddl)

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """Run the block as one atomic write transaction.

        Not `durable`: committed with synchronous=NORMAL, so the WAL is not synced. A crash of
        the process loses nothing; a power loss may lose it, but only with every commit after
        it: the next durable commit syncs the whole WAL, this one's frames too, and SQLite
        recovers a prefix of the WAL's commits. For what only this boot's processes make true.
        Where the filesystem refused WAL mode, every commit is durable.
        """
        durable = durable or not self._wal
        with self._lock, _full_is_no_space(self.path):
            if not durable:
                self._conn.execute("PRAGMA synchronous=NORMAL")  # SQLite takes it only outside a transaction
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:  # a COMMIT that failed (a full disk) leaves nothing open either
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            finally:
                if not durable and not self._conn.in_transaction:  # a failed ROLLBACK: keep its error
                    self._conn.execute("PRAGMA synchronous=FULL")

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@contextmanager
def _full_is_no_space(path: Path) -> Iterator[None]:
    """SQLite's "database or disk is full" as NoSpace, the words every other full write has."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            raise NoSpace(path) from None
        raise
