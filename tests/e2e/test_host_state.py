"""Host state is adopted or replaced at start, never accumulated: many scratch daemons, one host.

Every daemon here runs in the same network namespace (the "host", made by the test) on a data
root of its own, as test suites and scratch roots do; the host must look the same after the
twentieth as after the first: one address on `dockyard0`, the same links and iptables rules,
no mount left under any data root.
"""

from __future__ import annotations

import re
import secrets
import signal

import pytest

from tests.e2e.daemon import Daemon
from tests.network.harness import Namespaces, sh

pytestmark = pytest.mark.root

DAEMONS = 20


@pytest.fixture
def host():
    spaces = Namespaces(secrets.token_hex(3))
    try:
        yield spaces.add("host")
    finally:
        spaces.delete_all()


def host_state(ns: str) -> dict[str, list[str]]:
    """Addresses, links and iptables rules of the namespace, without counters or timestamps."""
    addresses = sh("ip", "-o", "-4", "addr", "show", ns=ns).stdout.splitlines()
    links = sh("ip", "-o", "link", "show", ns=ns).stdout.splitlines()
    rules = sh("iptables-save", ns=ns).stdout.splitlines()
    return {
        "addresses": sorted(" ".join(line.split()[1:4]) for line in addresses),
        "links": sorted(line.split(":")[1].strip().split("@")[0] for line in links),
        "rules": [re.sub(r"\[\d+:\d+\]", "[0:0]", line) for line in rules if not line.startswith("#")],
    }


def mounts_under(daemon: Daemon) -> list[str]:
    prefix = str(daemon.base) + "/"
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(prefix)]


def one_daemon(ns: str, run_a_container: bool, config: dict | None = None) -> None:
    daemon = Daemon(netns=ns, config=config)
    try:
        daemon.start()
        if run_a_container:
            daemon.import_busybox()
            assert daemon.cli("run", "--rm", "busybox", "true").returncode == 0
        daemon.kill(signal.SIGTERM)
        assert mounts_under(daemon) == []
    except BaseException as exc:
        exc.add_note(f"daemon log:\n{daemon.log()}")
        raise
    finally:
        daemon.cleanup()


def test_scratch_daemons_leave_the_host_as_the_first_one_did(host):
    one_daemon(host, run_a_container=True)
    first = host_state(host)
    assert len([a for a in first["addresses"] if a.startswith("dockyard0 ")]) == 1
    for n in range(DAEMONS - 1):
        one_daemon(host, run_a_container=n % 5 == 0)
        assert host_state(host) == first, f"after daemon {n + 2}"


def test_bip_replaces_the_address_an_earlier_daemon_left(host):
    one_daemon(host, run_a_container=False)
    one_daemon(host, run_a_container=False, config={"bip": "10.79.0.1/24"})
    addresses = [a for a in host_state(host)["addresses"] if a.startswith("dockyard0 ")]
    assert addresses == ["dockyard0 inet 10.79.0.1/24"]
    one_daemon(host, run_a_container=False)  # no bip: the address there is adopted
    assert [a for a in host_state(host)["addresses"] if a.startswith("dockyard0 ")] == addresses


def test_a_killed_daemon_s_networks_are_cleaned_by_the_next(host):
    one_daemon(host, run_a_container=False)
    first = host_state(host)
    crashed = Daemon(netns=host)
    try:
        crashed.start().import_busybox()
        crashed.cli("network", "create", "left-behind")
        crashed.cli("run", "-d", "--network", "left-behind", "-p", "8080:80", "busybox", "sleep", "1000")
        crashed.kill(signal.SIGKILL)
    finally:
        crashed.cleanup()  # its shims killed, its mounts and data root gone; its bridge and rules stay
    assert host_state(host) != first
    one_daemon(host, run_a_container=False)
    assert host_state(host) == first
