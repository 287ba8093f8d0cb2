"""Crash consistency: kill the daemon (SIGKILL) inside pull, load, import, commit, rm, rmi,
network create/connect and container start, restart it, and check the invariants
(tests/e2e/invariants.py): nothing referenced is missing, nothing unreferenced survives the
start-up collection, running containers still run and answer, no link, rule or mount is left.

The kill comes from the daemon itself at a named fault point (dockyard/faults.py, armed with
DOCKYARD_FAULTS), and, for pulls, also from outside at arbitrary moments.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import signal
import subprocess
import threading
import time

import pytest

from tests.distribution.conftest import start_registry
from tests.e2e.daemon import DOCKYARD, Daemon
from tests.e2e.invariants import assert_sound, is_dead_by_sigkill
from tests.network.harness import Namespaces

pytestmark = pytest.mark.root

IMAGE = "crash/two:v1"  # busybox plus one 6 MiB layer of random bytes, in a local registry
LOADED = "crash/loaded:v1"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    handle = start_registry(tmp_path_factory.mktemp("registry"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def store_daemon(registry, tmp_path_factory):
    """A daemon with busybox, a running `survivor`, an exited `stopped`, IMAGE pushed and saved."""
    daemon = Daemon().start()
    try:
        daemon.import_busybox()
        daemon.cli("run", "--name", "maker", "busybox", "sh", "-c", "head -c 6291456 /dev/urandom > /blob")
        daemon.cli("commit", "maker", LOADED)
        daemon.cli("rm", "maker")
        daemon.cli("tag", LOADED, f"{registry.address}/{IMAGE}")
        daemon.cli("push", f"{registry.address}/{IMAGE}")
        archive = tmp_path_factory.mktemp("archive") / "loaded.tar"
        daemon.cli("save", "-o", str(archive), LOADED)
        daemon.cli("rmi", LOADED, f"{registry.address}/{IMAGE}")
        daemon.cli("run", "-d", "--name", "survivor", "busybox", "sleep", "100000")
        daemon.cli("run", "--name", "stopped", "busybox", "sh", "-c", "echo changed > /etc/motd")
        daemon.archive = archive
        yield daemon
    finally:
        daemon.cleanup_after_kills()


def crash_at(daemon: Daemon, point: str, prepare: list[list[str]], action: list[str]) -> None:
    """Restart the daemon with `point` armed, run `prepare` then `action` (which must kill it),
    restart it clean and check every invariant."""
    daemon.kill(signal.SIGTERM)
    daemon.start(env={"DOCKYARD_FAULTS": point})
    for command in prepare:
        daemon.cli(*command, check=False)
    done = daemon.cli(*action, check=False, timeout=120)
    assert is_dead_by_sigkill(daemon), f"{point} never fired: {done.stdout} {done.stderr}"
    daemon.start()
    assert_sound(daemon)


STORE_CASES = {
    # point: (preparation, action); {reg} is the registry's address, {archive} the saved image
    "pull.after-fetch": ([["rmi", "{reg}/" + IMAGE]], ["pull", "{reg}/" + IMAGE]),
    "pull.after-layer": ([["rmi", "{reg}/" + IMAGE]], ["pull", "{reg}/" + IMAGE]),
    "unpack.before-publish": ([["rmi", "{reg}/" + IMAGE]], ["pull", "{reg}/" + IMAGE]),
    "unpack.mid-sync": ([["rmi", "{reg}/" + IMAGE]], ["pull", "{reg}/" + IMAGE]),
    "pull.before-record": ([["rmi", "{reg}/" + IMAGE]], ["pull", "{reg}/" + IMAGE]),
    "load.after-blob": ([["rmi", LOADED]], ["load", "-i", "{archive}"]),
    "load.before-record": ([["rmi", LOADED]], ["load", "-i", "{archive}"]),
    "register.before-record": ([["rmi", LOADED]], ["load", "-i", "{archive}"]),
    "commit.after-blob": ([], ["commit", "stopped", "crash/committed"]),
    "rmi.after-record": ([["rmi", "{reg}/" + IMAGE], ["load", "-i", "{archive}"]], ["rmi", LOADED]),
    "gc.mid-sweep": ([["rmi", "{reg}/" + IMAGE], ["load", "-i", "{archive}"]], ["rmi", LOADED]),
    "rm.after-record": ([["run", "-d", "--name", "victim", "busybox", "sleep", "1000"]], ["rm", "-f", "victim"]),
    "start.after-task": ([["create", "--name", "starter", "busybox", "sleep", "1000"]], ["start", "starter"]),
}


@pytest.mark.parametrize("point", list(STORE_CASES))
def test_a_crash_in_the_store_leaves_it_sound(store_daemon, registry, point):
    prepare, action = STORE_CASES[point]
    fill = lambda args: [a.format(reg=registry.address, archive=store_daemon.archive) for a in args]
    crash_at(store_daemon, point, [fill(c) for c in prepare], fill(action))
    assert store_daemon.cli("inspect", "-f", "{{.State.Status}}", "survivor").stdout.strip() == "running"
    if point.startswith(("pull.", "unpack.")):
        again = store_daemon.cli("pull", f"{registry.address}/{IMAGE}").stdout
        assert store_daemon.cli("run", "--rm", f"{registry.address}/{IMAGE}", "test", "-s", "/blob").returncode == 0
        assert again
    if point == "start.after-task":
        assert store_daemon.cli("inspect", "-f", "{{.State.Status}}", "starter").stdout.strip() != "running"
        store_daemon.cli("start", "starter")
        assert store_daemon.cli("exec", "starter", "true").returncode == 0
        store_daemon.cli("rm", "-f", "starter")
        assert_sound(store_daemon)


def test_import_crash_then_import_again(store_daemon, busybox_tar):
    data = busybox_tar.read_bytes() + b"\0" * 10240  # a blob of its own
    store_daemon.kill(signal.SIGTERM)
    store_daemon.start(env={"DOCKYARD_FAULTS": "import.after-blob"})
    store_daemon.cli("import", "-", "crash/imported", input=data, check=False)
    assert is_dead_by_sigkill(store_daemon)
    store_daemon.start()
    assert_sound(store_daemon)
    store_daemon.cli("import", "-", "crash/imported", input=data)
    assert_sound(store_daemon)


def test_a_pull_killed_at_any_moment_leaves_no_half_layer(store_daemon, registry):
    """SIGKILL from outside at arbitrary moments of a pull; after each restart the store is sound
    and the pull then completes, fetching (not `Already exists`) whatever was not kept."""
    name = f"{registry.address}/{IMAGE}"
    rng = random.Random(15)
    for delay in sorted(rng.uniform(0.05, 1.5) for _ in range(4)):
        store_daemon.cli("rmi", name, check=False)
        puller = subprocess.Popen(
            [DOCKYARD, "-H", store_daemon.host, "pull", name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        time.sleep(delay)
        store_daemon.kill(signal.SIGKILL)
        puller.communicate(timeout=30)
        store_daemon.start()
        assert_sound(store_daemon)
    store_daemon.cli("rmi", name, check=False)
    out = store_daemon.docker("pull", name).stdout
    assert out.count("Already exists") == 1  # busybox's layer, which the local busybox image keeps
    assert_sound(store_daemon)


def test_rmi_of_a_pulled_image_leaves_none_of_its_layers(store_daemon, registry):
    name = f"{registry.address}/{IMAGE}"
    store_daemon.docker("pull", name)
    layers_before = {p.name for p in (store_daemon.data_root / "layers").iterdir()}
    store_daemon.docker("rmi", name)
    layers_after = {p.name for p in (store_daemon.data_root / "layers").iterdir()}
    assert len(layers_before - layers_after) == 1  # its own layer; the base is busybox's
    assert_sound(store_daemon)
    again = store_daemon.docker("pull", name).stdout
    assert again.count("Already exists") == 1 and again.count("Pull complete") == 1


def test_image_prune_collects_leftovers(store_daemon):
    """Leftovers as a crash or an older version leaves them go on `image prune` (which `system
    prune` calls), not only at start."""
    data = b"a blob nothing references"
    orphan = store_daemon.data_root / "blobs" / "sha256" / hashlib.sha256(data).hexdigest()
    orphan.write_bytes(data)
    stale = store_daemon.data_root / "ingest" / "stale-ingest"
    stale.write_bytes(b"half")
    store_daemon.cli("image", "prune", "-f")
    assert not orphan.exists() and not stale.exists()
    assert_sound(store_daemon)


def test_prunes_racing_pulls_never_take_what_a_pull_holds(store_daemon, registry):
    """`image prune` (so a collection) runs over and over while the image is pulled again and again."""
    name = f"{registry.address}/{IMAGE}"
    stop = threading.Event()

    def prune_forever() -> None:
        while not stop.is_set():
            store_daemon.cli("image", "prune", "-f", check=False)

    pruner = threading.Thread(target=prune_forever)
    pruner.start()
    try:
        for _ in range(4):
            store_daemon.cli("rmi", name, check=False)
            store_daemon.cli("pull", name)
            assert store_daemon.cli("run", "--rm", name, "test", "-s", "/blob").returncode == 0
    finally:
        stop.set()
        pruner.join()
    assert_sound(store_daemon)


# -- network and start, in a network namespace -------------------------------------------


@pytest.fixture(scope="module")
def net_daemon():
    spaces = Namespaces(secrets.token_hex(3))
    daemon = Daemon(netns=spaces.add("crash"))
    try:
        daemon.start().import_busybox()
        daemon.cli("network", "create", "kept")
        daemon.cli("run", "-d", "--name", "survivor", "--network", "kept", "busybox", "sleep", "100000")
        yield daemon
    finally:
        try:
            daemon.cleanup_after_kills()
        finally:
            spaces.delete_all()


NET_CASES = {
    "network.create.after-record": ([], ["network", "create", "crashnet"]),
    # arrival 2: the first connect is the preparation's own start
    "network.connect.after-record@2": (
        [["run", "-d", "--name", "joiner", "busybox", "sleep", "1000"]],
        ["network", "connect", "kept", "joiner"],
    ),
    "start.after-task": ([["create", "--name", "starter", "busybox", "sleep", "1000"]], ["start", "starter"]),
}


@pytest.mark.parametrize("point", list(NET_CASES))
def test_a_crash_in_networking_leaves_no_link_rule_or_mount(net_daemon, point):
    prepare, action = NET_CASES[point]
    crash_at(net_daemon, point, prepare, action)
    assert net_daemon.cli("exec", "survivor", "true").returncode == 0
    if point.startswith("network.create"):
        net_daemon.cli("network", "rm", "crashnet")
    else:
        name = "joiner" if "connect" in point else "starter"
        if point.startswith("start"):
            net_daemon.cli("start", name)
        assert "inet " in net_daemon.cli("exec", name, "ip", "-o", "-4", "addr", "show", "eth0").stdout
        net_daemon.cli("rm", "-f", name)
    assert_sound(net_daemon)
