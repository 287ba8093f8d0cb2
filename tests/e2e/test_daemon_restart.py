"""Containers outlive the daemon: SIGKILL it, restart it, and find them (running or exited)."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.e2e.daemon import DOCKYARD, Daemon

pytestmark = pytest.mark.root


@pytest.fixture
def own_daemon():
    """A daemon of this test's own, since the test kills it."""
    instance = Daemon()
    try:
        instance.start().import_busybox()
        yield instance
    finally:
        instance.cleanup_after_kills()


def test_containers_survive_a_daemon_sigkill(own_daemon):
    d = own_daemon
    d.cli("run", "-d", "--name", "survivor", "busybox", "sh", "-c", "echo before; sleep 600")
    d.docker("run", "-d", "--name", "quitter", "busybox", "sh", "-c", "sleep 2; echo bye; exit 7")
    pid = d.inspect("survivor")["State"]["Pid"]
    d.kill(signal.SIGKILL)
    assert not d.ping()
    time.sleep(3)  # quitter exits while no daemon runs
    d.start()
    for client in ("dockyard", "docker"):
        survivor = d.client(client, "inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "survivor").stdout.split()
        assert survivor == ["running", str(pid)]
        quitter = d.client(client, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "quitter").stdout.split()
        assert quitter == ["exited", "7"]
    assert d.docker("logs", "quitter").stdout == "bye\n"
    assert d.cli("exec", "survivor", "echo", "still here").stdout == "still here\n"
    assert d.docker("ps", "--format", "{{.Names}}").stdout.split() == ["survivor"]
    d.docker("stop", "-t", "1", "survivor")
    assert d.cli("inspect", "-f", "{{.State.ExitCode}}", "survivor").stdout.strip() == "137"


def test_a_waiter_after_restart_sees_the_exit(own_daemon):
    d = own_daemon
    d.cli("run", "-d", "--name", "later", "busybox", "sh", "-c", "sleep 3; exit 9")
    d.kill(signal.SIGKILL)
    d.start()
    assert d.docker("wait", "later").stdout.strip() == "9"
    d.kill(signal.SIGTERM)  # a graceful stop keeps nothing from the next start either
    d.start()
    assert d.cli("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout.startswith("later Exited (9)")


def test_a_daemon_started_with_sigterm_blocked_still_stops_on_it():
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # the daemon inherits it
    d = Daemon()
    try:
        d.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    try:
        d.process.send_signal(signal.SIGTERM)
        assert d.process.wait(timeout=15) == 0
    finally:
        if d.process.poll() is None:
            d.process.kill()
        d.cleanup()


def test_a_second_daemon_on_the_same_data_root_is_refused(daemon):
    second = Daemon(root=None)
    try:
        result = subprocess.run(
            [
                DOCKYARD,
                "daemon",
                "--data-root",
                str(daemon.data_root),
                "-H",
                second.host,
                "--config-file",
                str(daemon.base / "daemon.json"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode != 0
        assert "another dockyard daemon is using the data root" in result.stderr
        assert daemon.ping()
    finally:
        second.cleanup()


def test_a_restarted_daemon_finishes_removals_a_crash_interrupted(own_daemon):
    d = own_daemon
    d.kill(signal.SIGKILL)
    orphan = d.data_root / "containers" / ("f" * 64)  # a directory whose record was already deleted
    (orphan / "upper" / "etc").mkdir(parents=True)
    (orphan / "work").mkdir()
    d.start()
    assert not orphan.exists()


def test_snapshot_parents_a_power_loss_damaged_are_repaired_at_start(own_daemon):
    """create writes a container's snapshot `parent` without fsync (decision 0121); a power loss
    may leave it missing, empty (which reads as "no parent": an empty rootfs) or cut short.
    The next daemon rewrites it from the container's record, and the image's files are there."""
    d = own_daemon
    damage = {
        "missing": lambda parent: parent.unlink(),
        "empty": lambda parent: parent.write_text(""),
        "cut-short": lambda parent: parent.write_text(parent.read_text()[:30]),
    }
    parents = {}
    for name in damage:
        d.cli("create", "--name", name, "busybox", "cat", "/etc/passwd")
        parents[name] = d.data_root / "containers" / d.inspect(name)["Id"] / "parent"
    written = {name: path.read_text() for name, path in parents.items()}
    assert all(text.startswith("sha256:") for text in written.values())
    d.kill(signal.SIGTERM)
    for name, spoil in damage.items():
        spoil(parents[name])
    d.start()
    outputs = {name: d.cli("start", "-a", name, check=False) for name in damage}
    started_with_the_image = {name: done.stdout.startswith("root:x:0:0:") for name, done in outputs.items()}
    assert started_with_the_image == dict.fromkeys(damage, True)
    assert {name: path.read_text() for name, path in parents.items()} == written
