"""The metadata database: one transaction per change, whole or not at all, even under SIGKILL;
synced at commit unless the change says it need not be."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dockyard.metadata.db import Database

SCHEMA = "CREATE TABLE IF NOT EXISTS a (k INTEGER PRIMARY KEY); CREATE TABLE IF NOT EXISTS b (k INTEGER PRIMARY KEY);"
WRITER = """
import sys
from pathlib import Path
from dockyard.metadata.db import Database
db = Database(Path(sys.argv[1]))
db.ensure_schema(sys.argv[2])
k = 0
print("ready", flush=True)
while True:
    k += 1
    with db.transaction() as tx:   # a change that touches two tables
        tx.execute("INSERT INTO a (k) VALUES (?)", (k,))
        tx.execute("INSERT INTO b (k) VALUES (?)", (k,))
"""


def test_a_failed_transaction_leaves_nothing(tmp_path):
    db = Database(tmp_path / "d.db")
    db.ensure_schema(SCHEMA)
    with pytest.raises(RuntimeError):
        with db.transaction() as tx:
            tx.execute("INSERT INTO a (k) VALUES (1)")
            raise RuntimeError("midway")
    assert db.query("SELECT count(*) AS n FROM a")[0]["n"] == 0


def test_sigkill_at_any_moment_never_leaves_half_a_change(tmp_path):
    path = tmp_path / "d.db"
    for _ in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), SCHEMA],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            assert writer.stdout.readline() == b"ready\n"
            time.sleep(random.uniform(0.05, 0.3))
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        db = Database(path)
        a = {row["k"] for row in db.query("SELECT k FROM a")}
        b = {row["k"] for row in db.query("SELECT k FROM b")}
        db.close()
        assert a and a == b


NORMAL, FULL = 1, 2  # PRAGMA synchronous


def _synchronous(db: Database) -> int:
    return db.query("PRAGMA synchronous")[0][0]


def test_a_non_durable_commit_is_seen_at_once_and_a_durable_one_follows(tmp_path):
    db = Database(tmp_path / "d.db")
    db.ensure_schema(SCHEMA)
    other = Database(tmp_path / "d.db")  # another connection sees what a commit published
    with db.transaction(durable=False) as tx:
        assert tx.execute("PRAGMA synchronous").fetchone()[0] == NORMAL
        tx.execute("INSERT INTO a (k) VALUES (1)")
    assert [row["k"] for row in other.query("SELECT k FROM a")] == [1]
    assert _synchronous(db) == FULL  # restored for every commit after
    with db.transaction() as tx:
        assert tx.execute("PRAGMA synchronous").fetchone()[0] == FULL
        tx.execute("INSERT INTO a (k) VALUES (2)")
    assert [row["k"] for row in other.query("SELECT k FROM a ORDER BY k")] == [1, 2]
    other.close()
    db.close()


def test_a_failed_non_durable_transaction_leaves_nothing_open_and_full_restored(tmp_path):
    """Also when COMMIT itself fails (a deferred foreign key), which leaves SQLite's transaction
    open, and SQLite refuses to change the pragma inside one."""
    db = Database(tmp_path / "d.db")
    db.ensure_schema(
        "CREATE TABLE IF NOT EXISTS p (k INTEGER PRIMARY KEY);"
        "CREATE TABLE IF NOT EXISTS c (k INTEGER REFERENCES p (k) DEFERRABLE INITIALLY DEFERRED);"
    )
    with pytest.raises(RuntimeError):
        with db.transaction(durable=False) as tx:
            tx.execute("INSERT INTO p (k) VALUES (1)")
            raise RuntimeError("midway")
    assert _synchronous(db) == FULL
    with pytest.raises(sqlite3.IntegrityError):
        with db.transaction(durable=False) as tx:
            tx.execute("INSERT INTO c (k) VALUES (7)")  # no p 7: COMMIT fails
    assert _synchronous(db) == FULL
    with db.transaction() as tx:  # nothing was left open
        tx.execute("INSERT INTO p (k) VALUES (2)")
    assert [row["k"] for row in db.query("SELECT k FROM p")] == [2] and db.query("SELECT k FROM c") == []
    db.close()


def test_without_wal_every_commit_is_durable():
    """Unsynced commits are ordered before the next synced one only in WAL mode; a database
    where SQLite keeps another journal (here in memory) syncs them all."""
    db = Database(Path(":memory:"))
    db.ensure_schema(SCHEMA)
    with db.transaction(durable=False) as tx:
        assert tx.execute("PRAGMA synchronous").fetchone()[0] == FULL
        tx.execute("INSERT INTO a (k) VALUES (1)")
    db.close()


SYNCS = """
import os, sys
from pathlib import Path
from dockyard.metadata.db import Database
db = Database(Path(sys.argv[1]))
db.ensure_schema(sys.argv[2])
with db.transaction() as tx:
    tx.execute("INSERT INTO a (k) VALUES (0)")
os.write(1, b"non-durable\\n")
with db.transaction(durable=False) as tx:
    tx.execute("INSERT INTO a (k) VALUES (1)")
os.write(1, b"durable\\n")
with db.transaction() as tx:
    tx.execute("INSERT INTO a (k) VALUES (2)")
os.write(1, b"end\\n")
"""


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_only_the_durable_commit_syncs(tmp_path):
    """strace counts the fsync/fdatasync calls of each commit: none for the non-durable one,
    and the durable one after it syncs the WAL (both commits' frames)."""
    trace = tmp_path / "trace"
    subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync,write", "-o", str(trace)]
        + [sys.executable, "-c", SYNCS, str(tmp_path / "d.db"), SCHEMA],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    syncs: dict[str, int] = {}
    phase = "setup"
    for line in trace.read_text().splitlines():
        for marker in ("non-durable", "durable", "end"):
            if f'write(1, "{marker}\\n"' in line:
                phase = marker
        if "fsync(" in line or "fdatasync(" in line:
            syncs[phase] = syncs.get(phase, 0) + 1
    assert syncs.get("non-durable", 0) == 0
    assert syncs.get("durable", 0) >= 1
