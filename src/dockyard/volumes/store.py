"""The volumes table: one row per volume, owned by this package; one transaction per change."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from dockyard.errors import NoSuchVolume
from dockyard.metadata.db import Database

ANONYMOUS = "com.docker.volume.anonymous"
SCHEMA = """
CREATE TABLE IF NOT EXISTS volumes (
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class VolumeRecord:
    """One volume as stored; an anonymous one carries the label ANONYMOUS (as Docker 23+)."""

    name: str
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    created: str = ""

    @property
    def anonymous(self) -> bool:
        return ANONYMOUS in self.labels


class VolumeStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema(SCHEMA)

    def insert(self, record: VolumeRecord) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO volumes (name, driver, labels, options, created) VALUES (?, ?, ?, ?, ?)",
                (
                    record.name,
                    record.driver,
                    json.dumps(record.labels),
                    json.dumps(record.options),
                    record.created,
                ),
            )

    def get(self, name: str) -> VolumeRecord:
        """Raises NoSuchVolume."""
        rows = self._db.query("SELECT * FROM volumes WHERE name = ?", (name,))
        if not rows:
            raise NoSuchVolume(name)
        return _record(rows[0])

    def find(self, name: str) -> VolumeRecord | None:
        rows = self._db.query("SELECT * FROM volumes WHERE name = ?", (name,))
        return _record(rows[0]) if rows else None

    def all(self) -> list[VolumeRecord]:
        return [_record(row) for row in self._db.query("SELECT * FROM volumes ORDER BY name")]

    def delete(self, name: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM volumes WHERE name = ?", (name,))


def _record(row) -> VolumeRecord:
    return VolumeRecord(
        name=row["name"],
        driver=row["driver"],
        labels=json.loads(row["labels"]),
        options=json.loads(row["options"]),
        created=row["created"],
    )
