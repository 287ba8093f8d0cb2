"""What must hold of a data root and its host after any crash, restart and start-up collection.

`problems(daemon)` reads the database (read-only), the disk, the mount table and, for a daemon
in a network namespace, its links and iptables rules, and names each thing that is wrong:

    records   every image's config, manifest and layer blobs and every layer of its chain
              exist; tags and repo digests name recorded images; every container record has
              its directory and snapshot, every container directory its record
    garbage   no blob, layer, ingest or scratch entry that nothing references (the start-up
              collection has run); every layer link resolves
    host      mounts under the data root belong to running containers; each host veth is a
              recorded endpoint of a running container; each recorded bridge exists;
              iptables rules name only links that exist
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from pathlib import Path

from dockyard.oci.digest import Digest, chain_id
from tests.e2e.daemon import Daemon
from tests.network.harness import sh

SETTLE = 5.0  # seconds assert_sound() gives what is in flux (a removal's files) to settle


def problems(daemon: Daemon) -> list[str]:
    """Everything wrong with the daemon's data root and host state (the daemon must be up)."""
    running = set(daemon.cli("ps", "-q", "--no-trunc").stdout.split())
    db = sqlite3.connect(f"file:{daemon.data_root / 'dockyard.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        found = _store(daemon.data_root, db)
        found += _mounts(daemon.data_root, running)
        if daemon.netns:
            found += _network(daemon.netns, db, running)
    finally:
        db.close()
    return found


def _store(root: Path, db: sqlite3.Connection) -> list[str]:
    found: list[str] = []
    blobs = {p.name for p in (root / "blobs" / "sha256").iterdir()}
    layers = {p.name for p in (root / "layers").iterdir() if p.name != "l"}
    parents = {name: (root / "layers" / name / "parent").read_text() for name in layers}
    wanted_blobs, wanted_layers = set(), set()
    for row in db.execute("SELECT id, manifest_digest, layers FROM images"):
        refs = json.loads(row["layers"])
        image_blobs = {row["id"], row["manifest_digest"], *(ref["digest"] for ref in refs)}
        chains = [chain_id([Digest(ref["diff_id"]) for ref in refs[: i + 1]]) for i in range(len(refs))]
        for missing in sorted(Digest(b).hex for b in image_blobs if Digest(b).hex not in blobs):
            found.append(f"image {row['id'][:19]}: blob {missing[:12]} missing")
        for missing in (c.hex for c in chains if c.hex not in layers):
            found.append(f"image {row['id'][:19]}: layer {missing[:12]} missing")
        wanted_blobs |= {Digest(b).hex for b in image_blobs}
        wanted_layers |= {c.hex for c in chains}
    for table in ("tags", "repo_digests"):
        for row in db.execute(f"SELECT name FROM {table} WHERE image_id NOT IN (SELECT id FROM images)"):
            found.append(f"{table} {row['name']} names no image")
    for row in db.execute("SELECT name FROM repo_digests"):
        wanted_blobs.add(row["name"].rpartition("@")[2].removeprefix("sha256:"))
    if _has_table(db, "compressed_layers"):
        for row in db.execute("SELECT source, digest FROM compressed_layers"):
            if Digest(row["source"]).hex in wanted_blobs:
                wanted_blobs.add(Digest(row["digest"]).hex)
    records = {row["id"]: json.loads(row["record"]) for row in db.execute("SELECT id, record FROM containers")}
    containers = set(records)
    directories = {p.name for p in (root / "containers").iterdir()}
    found += [f"container {c[:12]}: no directory" for c in sorted(containers - directories)]
    found += [f"container directory {c[:12]}: no record" for c in sorted(directories - containers)]
    for c in containers & directories:
        parent = root / "containers" / c / "parent"
        recorded = records[c].get("snapshot_parent")  # None in records older than it
        if not parent.exists():
            found.append(f"container {c[:12]}: no snapshot")
        elif recorded is not None and parent.read_text() != recorded:
            found.append(f"container {c[:12]}: snapshot parent {parent.read_text()!r}, recorded {recorded!r}")
        elif parent.read_text():
            wanted_layers.add(Digest(parent.read_text()).hex)
    for chain in list(wanted_layers):
        while chain in parents and parents[chain]:
            chain = Digest(parents[chain]).hex
            wanted_layers.add(chain)
    found += [f"blob {b[:12]}: referenced by nothing" for b in sorted(blobs - wanted_blobs)]
    found += [f"layer {c[:12]}: referenced by nothing" for c in sorted(layers - wanted_layers)]
    found += [f"ingest leftover {p.name}" for p in (root / "ingest").iterdir()]
    found += [f"tmp leftover {p.name}" for p in (root / "tmp").iterdir()]
    links = list((root / "layers" / "l").iterdir())
    found += [f"layer link {p.name} dangles" for p in links if not p.exists()]
    return found


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


def _mounts(root: Path, running: set[str]) -> list[str]:
    prefix = str(root) + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f if line.split()[4].startswith(prefix)]
    allowed = tuple(f"{root}/containers/{c}/" for c in running)
    return [f"mount {p} of no running container" for p in points if not (p + "/").startswith(allowed)]


def _network(ns: str, db: sqlite3.Connection, running: set[str]) -> list[str]:
    found: list[str] = []
    links = {line.split(":")[1].strip().split("@")[0] for line in sh("ip", "-o", "link", ns=ns).stdout.splitlines()}
    endpoints = {
        row["veth"]: row["container_id"] for row in db.execute("SELECT veth, container_id FROM network_endpoints")
    }
    for veth, container in endpoints.items():
        if veth and container not in running:
            found.append(f"endpoint {veth} of container {container[:12]}, which is not running")
        if veth and veth not in links:
            found.append(f"endpoint {veth}: no such link")
    found += [f"link {name}: no endpoint" for name in links if name.startswith("dyv") and name not in endpoints]
    bridges = {row["bridge"] for row in db.execute("SELECT bridge FROM networks WHERE driver = 'bridge'")}
    found += [f"bridge {name} missing" for name in bridges if name not in links]
    found += [f"link {name}: no network" for name in links if name.startswith("dy-") and name not in bridges]
    rules = sh("iptables-save", ns=ns).stdout
    for name in set(re.findall(r"-[io] (\S+)", rules)):
        if name.startswith(("dy", "dockyard")) and name not in links:
            found.append(f"iptables names {name}, which does not exist")
    return found


def running_containers_answer(daemon: Daemon) -> list[str]:
    """Each running container takes an exec; the names of those that do not."""
    silent = []
    for container in daemon.cli("ps", "-q", "--no-trunc").stdout.split():
        if daemon.cli("exec", container, "true", check=False, timeout=30).returncode != 0:
            silent.append(container)
    return silent


def assert_sound(daemon: Daemon) -> None:
    """No problems, and every running container answers exec. A removed container's files are
    discarded after its `removed` wait is answered (Lifecycle.remove: `docker run --rm` waits for
    none of that), so what is found is looked at again until it has gone or SETTLE seconds
    have passed; only what stays fails."""
    deadline = time.monotonic() + SETTLE
    while True:
        found = problems(daemon)
        found += [f"container {c[:12]} does not answer exec" for c in running_containers_answer(daemon)]
        if not found or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    assert found == [], "\n".join(found)


def is_dead_by_sigkill(daemon: Daemon) -> bool:
    """Whether the daemon process ended by SIGKILL (a fault point fired), waiting a little."""
    try:
        daemon.process.wait(timeout=30)
    except Exception:
        return False
    return daemon.process.returncode == -9 and not os.path.exists(f"/proc/{daemon.process.pid}")
