"""Image records and tags in the metadata database.

An image is named by its ID, the digest of its config blob. Its manifest and config live in
the content store; the record keeps what lookups need: the layer list, size, tags and the
repo digests it was pulled or pushed by. Tags and repo digests are full references
(`docker.io/library/busybox:latest`, `localhost:5000/a@sha256:...`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from dockyard.errors import Conflict, NoSuchImage
from dockyard.metadata.db import Database
from dockyard.oci.digest import Digest, chain_id
from dockyard.timestamps import now_rfc3339

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    manifest_digest TEXT NOT NULL,
    layers TEXT NOT NULL,
    size INTEGER NOT NULL,
    created TEXT NOT NULL,
    last_tag_time TEXT
);
CREATE TABLE IF NOT EXISTS tags (
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id)
);
CREATE TABLE IF NOT EXISTS repo_digests (
    name TEXT PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(id)
);
CREATE TABLE IF NOT EXISTS parents (
    image_id TEXT PRIMARY KEY REFERENCES images(id),
    parent TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS parents_by_parent ON parents(parent);
"""


@dataclass(frozen=True, slots=True)
class LayerRef:
    """One layer of an image: its uncompressed diff_id and the blob it came from."""

    diff_id: Digest
    digest: Digest
    media_type: str
    size: int

    def to_json(self) -> dict:
        return {"diff_id": self.diff_id, "digest": self.digest, "media_type": self.media_type, "size": self.size}

    @classmethod
    def from_json(cls, data: dict) -> LayerRef:
        return cls(Digest(data["diff_id"]), Digest(data["digest"]), data["media_type"], data["size"])


@dataclass(frozen=True, slots=True)
class ImageRecord:
    id: Digest
    manifest_digest: Digest
    layers: tuple[LayerRef, ...]
    size: int
    created: str
    last_tag_time: str | None
    tags: tuple[str, ...]
    repo_digests: tuple[str, ...]

    @property
    def chain_ids(self) -> list[Digest]:
        """The chain ID of each layer, bottom first."""
        return [chain_id([layer.diff_id for layer in self.layers[: i + 1]]) for i in range(len(self.layers))]

    @property
    def top_layer(self) -> Digest | None:
        return self.chain_ids[-1] if self.layers else None


class ImageStore:
    """Reads and writes image records; each change is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema(SCHEMA)

    def add(
        self,
        image_id: Digest,
        manifest_digest: Digest,
        layers: list[LayerRef],
        size: int,
        created: str,
        names: Sequence[str] = (),
        parent: Digest | None = None,
    ) -> None:
        """Record an image with `names` (tags, and repo digests `repo@sha256:...`) in one
        transaction, so no collector ever sees it nameless (idempotent: an existing record
        keeps its names and gains these). `parent`: the image it was built or committed on,
        kept beside the config as moby keeps it (its metadata, not the content-addressed
        config); a later record of the same image replaces it, as moby's SetParent does."""
        payload = json.dumps([layer.to_json() for layer in layers])
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO images (id, manifest_digest, layers, size, created) VALUES (?, ?, ?, ?, ?)",
                (image_id, manifest_digest, payload, size, created),
            )
            if parent is not None:
                tx.execute("INSERT OR REPLACE INTO parents (image_id, parent) VALUES (?, ?)", (image_id, parent))
            for name in names:
                if "@" in name:
                    tx.execute("INSERT OR REPLACE INTO repo_digests (name, image_id) VALUES (?, ?)", (name, image_id))
                else:
                    _point_tag(tx, name, image_id)

    def get(self, image_id: str) -> ImageRecord:
        rows = self._db.query("SELECT * FROM images WHERE id = ?", (image_id,))
        if not rows:
            raise NoSuchImage(image_id)
        return self._record(rows[0])

    def all(self) -> list[ImageRecord]:
        return [self._record(row) for row in self._db.query("SELECT * FROM images ORDER BY created DESC")]

    def parent(self, image_id: Digest) -> Digest | None:
        """The image this one was built or committed on, as recorded (here or not)."""
        rows = self._db.query("SELECT parent FROM parents WHERE image_id = ?", (image_id,))
        return Digest(rows[0]["parent"]) if rows else None

    def children(self, image_id: Digest) -> list[Digest]:
        """The images recorded as built or committed on this one."""
        rows = self._db.query("SELECT image_id FROM parents WHERE parent = ? ORDER BY image_id", (image_id,))
        return [Digest(row["image_id"]) for row in rows]

    def parents(self) -> set[Digest]:
        """Every image some other image was built or committed on."""
        return {Digest(row["parent"]) for row in self._db.query("SELECT DISTINCT parent FROM parents")}

    def find_by_prefix(self, prefix: str) -> list[Digest]:
        rows = self._db.query("SELECT id FROM images WHERE id LIKE ?", (f"sha256:{prefix}%",))
        return [Digest(row["id"]) for row in rows]

    def tagged(self, name: str) -> Digest | None:
        rows = self._db.query("SELECT image_id FROM tags WHERE name = ?", (name,))
        return Digest(rows[0]["image_id"]) if rows else None

    def by_repo_digest(self, name: str) -> Digest | None:
        rows = self._db.query("SELECT image_id FROM repo_digests WHERE name = ?", (name,))
        return Digest(rows[0]["image_id"]) if rows else None

    def tag(self, name: str, image_id: Digest) -> Digest | None:
        """Point `name` at the image; return the image it pointed at before, if another."""
        with self._db.transaction() as tx:
            if not tx.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone():
                raise NoSuchImage(image_id)
            row = tx.execute("SELECT image_id FROM tags WHERE name = ?", (name,)).fetchone()
            _point_tag(tx, name, image_id)
        previous = row["image_id"] if row else None
        return Digest(previous) if previous and previous != image_id else None

    def add_repo_digest(self, name: str, image_id: Digest) -> None:
        with self._db.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO repo_digests (name, image_id) VALUES (?, ?)", (name, image_id))

    def untag(self, name: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM tags WHERE name = ?", (name,))

    def delete_repo_digest(self, name: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM repo_digests WHERE name = ?", (name,))

    def delete(self, image_id: Digest) -> None:
        """Remove the record with its tags, repo digests and parent, in one transaction."""
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM tags WHERE image_id = ?", (image_id,))
            tx.execute("DELETE FROM repo_digests WHERE image_id = ?", (image_id,))
            tx.execute("DELETE FROM parents WHERE image_id = ?", (image_id,))
            if tx.execute("DELETE FROM images WHERE id = ?", (image_id,)).rowcount == 0:
                raise Conflict(f"image {image_id} was removed concurrently")

    def _record(self, row) -> ImageRecord:
        image_id = row["id"]
        tags = [
            r["name"] for r in self._db.query("SELECT name FROM tags WHERE image_id = ? ORDER BY name", (image_id,))
        ]
        digests = [
            r["name"]
            for r in self._db.query("SELECT name FROM repo_digests WHERE image_id = ? ORDER BY name", (image_id,))
        ]
        return ImageRecord(
            id=Digest(image_id),
            manifest_digest=Digest(row["manifest_digest"]),
            layers=tuple(LayerRef.from_json(layer) for layer in json.loads(row["layers"])),
            size=row["size"],
            created=row["created"],
            last_tag_time=row["last_tag_time"],
            tags=tuple(tags),
            repo_digests=tuple(digests),
        )


def _point_tag(tx, name: str, image_id: Digest) -> None:
    tx.execute("INSERT OR REPLACE INTO tags (name, image_id) VALUES (?, ?)", (name, image_id))
    tx.execute("UPDATE images SET last_tag_time = ? WHERE id = ?", (now_rfc3339(), image_id))
