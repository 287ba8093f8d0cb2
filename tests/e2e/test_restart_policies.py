"""Restart policies on a real daemon, also across its restart: an `always` container comes
back (also when its process died while no daemon ran), an `unless-stopped` one the user
stopped stays stopped, `on-failure:N` gives up after N restarts; RestartCount counts."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.e2e.daemon import restartable_daemon
from tests.polling import eventually

pytestmark = pytest.mark.root


@pytest.fixture
def own_daemon():
    """A daemon of this test's own, since the test kills it."""
    with restartable_daemon() as instance:
        yield instance


def _state(daemon, name: str) -> tuple[str, int, int]:
    data = daemon.inspect(name)
    return data["State"]["Status"], data["RestartCount"], data["State"]["Pid"]


def test_on_failure_gives_up_after_its_count_with_the_backoff(daemon):
    began = time.monotonic()
    daemon.cli("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3")
    eventually(lambda: _state(daemon, "flaky")[:2] == ("exited", 2), timeout=15, interval=0.1)
    assert time.monotonic() - began >= 0.3  # 100 ms, then 200 ms before the restarts
    time.sleep(1)
    assert _state(daemon, "flaky")[:2] == ("exited", 2)
    assert daemon.docker("inspect", "-f", "{{.State.ExitCode}} {{.RestartCount}}", "flaky").stdout.split() == ["3", "2"]
    daemon.cli("rm", "flaky")


def test_always_restarts_after_an_exit_and_stop_is_final(daemon):
    daemon.cli("run", "-d", "--name", "phoenix", "--restart", "always", "busybox", "sleep", "600")
    _, _, pid = _state(daemon, "phoenix")
    os.kill(pid, signal.SIGKILL)
    eventually(
        lambda: _state(daemon, "phoenix")[0] == "running" and _state(daemon, "phoenix")[2] != pid,
        timeout=15,
        interval=0.1,
    )
    assert _state(daemon, "phoenix")[1] == 1
    daemon.cli("stop", "-t", "1", "phoenix")
    time.sleep(0.5)
    assert _state(daemon, "phoenix")[0] == "exited"
    daemon.cli("rm", "phoenix")


def test_policies_across_a_daemon_restart(own_daemon):
    d = own_daemon
    d.cli("run", "-d", "--name", "always", "--restart", "always", "busybox", "sleep", "600")
    d.cli("run", "-d", "--name", "died", "--restart", "always", "busybox", "sleep", "600")
    d.cli("run", "-d", "--name", "stopped", "--restart", "unless-stopped", "busybox", "sleep", "600")
    d.cli("run", "-d", "--name", "kept", "--restart", "unless-stopped", "busybox", "sleep", "600")
    rebooted = d.cli("run", "-d", "--name", "rebooted", "--restart", "always", "busybox", "sleep", "600").stdout
    d.cli("stop", "-t", "1", "stopped")
    always_pid, died_pid, rebooted_pid = (_state(d, name)[2] for name in ("always", "died", "rebooted"))
    d.kill(signal.SIGKILL)
    os.kill(died_pid, signal.SIGKILL)  # dies while no daemon watches
    shim = int((d.data_root / "containers" / rebooted.strip() / "shim.pid").read_text().split()[0])
    os.kill(shim, signal.SIGKILL)  # as after a reboot: no shim, no process
    os.kill(rebooted_pid, signal.SIGKILL)
    time.sleep(0.5)
    d.start()
    assert _state(d, "always") == ("running", 0, always_pid)  # its shim kept it running
    eventually(lambda: _state(d, "died")[0] == "running", timeout=15, interval=0.1)
    status, count, pid = _state(d, "died")
    assert (count, pid != died_pid) == (1, True)
    assert _state(d, "stopped")[0] == "exited"
    assert _state(d, "kept")[0] == "running"
    eventually(lambda: _state(d, "rebooted")[:2] == ("running", 1), timeout=15, interval=0.1)
    assert set(d.docker("ps", "--format", "{{.Names}}").stdout.split()) == {"always", "died", "kept", "rebooted"}
