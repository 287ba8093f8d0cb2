"""Container records in the metadata database, one row each, written in one transaction."""

from __future__ import annotations

import sqlite3

from dockyard.engine.containers.model import Container
from dockyard.errors import Conflict
from dockyard.metadata.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    record TEXT NOT NULL
);
"""


class ContainerStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema(SCHEMA)

    def insert(self, container: Container) -> None:
        """Raises Conflict when the name is taken."""
        try:
            with self._db.transaction() as tx:
                tx.execute(
                    "INSERT INTO containers (id, name, image_id, record) VALUES (?, ?, ?, ?)",
                    (container.id, container.name, container.image_id, container.to_json()),
                )
        except sqlite3.IntegrityError:
            raise name_conflict(container.name, self.id_by_name(container.name) or "") from None

    def save(self, container: Container, durable: bool = True) -> None:
        """Raises Conflict when a rename collides. Not `durable`: a power loss may lose this save
        (and any after it), never one before (Database.transaction)."""
        try:
            with self._db.transaction(durable) as tx:
                tx.execute(
                    "UPDATE containers SET name = ?, record = ? WHERE id = ?",
                    (container.name, container.to_json(), container.id),
                )
        except sqlite3.IntegrityError:
            raise name_conflict(container.name, self.id_by_name(container.name) or "") from None

    def delete(self, container_id: str, durable: bool = True) -> None:
        """Not `durable`: a power loss may bring the record back (Database.transaction)."""
        with self._db.transaction(durable) as tx:
            tx.execute("DELETE FROM containers WHERE id = ?", (container_id,))

    def id_by_name(self, name: str) -> str | None:
        rows = self._db.query("SELECT id FROM containers WHERE name = ?", (name,))
        return rows[0]["id"] if rows else None

    def load_all(self) -> list[Container]:
        return [Container.from_json(row["record"]) for row in self._db.query("SELECT record FROM containers")]


def name_conflict(name: str, holder: str) -> Conflict:
    return Conflict(
        f'Conflict. The container name "/{name}" is already in use by container "{holder}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )
