"""The metadata database: one transaction per change, whole or not at all, even under SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

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
