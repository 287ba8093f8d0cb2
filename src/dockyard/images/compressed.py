"""Compressed copies of uncompressed layer blobs, remembered so a second push is cheap.

Imported, loaded and committed images keep their layers as plain tars (the blob digest is
the diff_id). Registries and other tools expect gzip layers, so a push compresses each
plain layer once (reproducibly: gzip level 6, mtime 0, no name), stores the gzip blob in the
content store, and records the pair here.
"""

from __future__ import annotations

from typing import BinaryIO

from dockyard.archive.compression import Compression, compressed_writer
from dockyard.content.store import ContentStore, ContentWriter
from dockyard.images.pins import Lease
from dockyard.metadata.db import Database
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest

SCHEMA = """
CREATE TABLE IF NOT EXISTS compressed_layers (
    source TEXT NOT NULL,
    media_type TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (source, media_type)
);
"""
GZIP_OF = {mt.OCI_LAYER: mt.OCI_LAYER_GZIP, mt.DOCKER_LAYER: mt.DOCKER_LAYER_GZIP}
COPY = 1 << 20


class CompressedLayers:
    """The gzip twin of each plain layer blob, made on first use."""

    def __init__(self, db: Database, content: ContentStore) -> None:
        self._db = db
        self._content = content
        db.ensure_schema(SCHEMA)

    def distributable(self, layer: Descriptor, lease: Lease) -> Descriptor:
        """The descriptor to push for a layer: itself when compressed, else its gzip twin (which
        `lease` holds until the push is done, against the collector)."""
        media_type = GZIP_OF.get(layer.media_type)
        if media_type is None:
            return layer
        known = self._lookup(layer.digest, media_type)
        if known is not None:
            lease.hold(known.digest)
            if self._content.exists(known.digest):
                return known
        with self._content.open(layer.digest) as source, lease.writer(self._content) as writer:
            _gzip(source, writer)
            size = writer.offset
            digest = writer.commit()
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO compressed_layers VALUES (?, ?, ?, ?)", (layer.digest, media_type, digest, size)
            )
        return Descriptor(media_type, digest, size)

    def twins(self) -> list[tuple[Digest, Digest]]:
        """Every (plain layer blob, gzip twin) pair recorded, for the collector's mark."""
        rows = self._db.query("SELECT source, digest FROM compressed_layers")
        return [(Digest(row["source"]), Digest(row["digest"])) for row in rows]

    def _lookup(self, source: Digest, media_type: str) -> Descriptor | None:
        rows = self._db.query(
            "SELECT digest, size FROM compressed_layers WHERE source = ? AND media_type = ?", (source, media_type)
        )
        return Descriptor(media_type, Digest(rows[0]["digest"]), rows[0]["size"]) if rows else None


class _Sink:
    """What GzipFile needs of its fileobj, over a content writer."""

    def __init__(self, writer: ContentWriter) -> None:
        self.writer = writer

    def write(self, data: bytes) -> int:
        self.writer.write(data)
        return len(data)

    def flush(self) -> None:
        """Nothing buffered here."""


def _gzip(source: BinaryIO, writer: ContentWriter) -> None:
    out = compressed_writer(_Sink(writer), Compression.GZIP)  # type: ignore[arg-type]
    while chunk := source.read(COPY):
        out.write(chunk)
    out.close()
