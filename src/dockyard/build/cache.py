"""The build cache: which image a step produced, keyed by everything the step depends on.

    key = sha256(parent image ID, the instruction with its values substituted,
                 the build args it sees, and for COPY/ADD the sources' checksum)

A row is a hint, not a promise: the image it names may have been removed since, so the
builder checks that the image still exists before it uses a hit. Rows live in the metadata
database, so the cache survives daemon restarts; `prune()` forgets them all.
"""

from __future__ import annotations

import hashlib
import json

from dockyard.metadata.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS build_cache (
    key TEXT PRIMARY KEY,
    image_id TEXT NOT NULL,
    parent_id TEXT NOT NULL
);
DROP INDEX IF EXISTS build_cache_parent;
"""
# parent_id: the step's parent, kept for the rows' shape; nothing reads it since the image
# store records every image's parent (decision 0071's 2026-12-06 amendment), so no index


def cache_key(parent: str, *parts: object) -> str:
    """The key of a step: its parent image ID and whatever else it depends on."""
    return hashlib.sha256(json.dumps([parent, *parts], separators=(",", ":")).encode()).hexdigest()


class BuildCache:
    """Rows of (key -> image ID) in the metadata database; each write one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema(SCHEMA)

    def get(self, key: str) -> str | None:
        rows = self._db.query("SELECT image_id FROM build_cache WHERE key = ?", (key,))
        return rows[0]["image_id"] if rows else None

    def put(self, key: str, image_id: str, parent_id: str) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO build_cache (key, image_id, parent_id) VALUES (?, ?, ?)",
                (key, image_id, parent_id),
            )

    def forget(self, key: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM build_cache WHERE key = ?", (key,))

    def prune(self) -> int:
        """Forget every row; return how many there were."""
        with self._db.transaction() as tx:
            return tx.execute("DELETE FROM build_cache").rowcount
