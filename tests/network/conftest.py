"""Fixtures that give each root test its own "host": a fresh network namespace.

The test thread enters a namespace made for it, so bridges, iptables chains, sysctls and
published ports never touch the real host (other engineers share it) and die with it.
An "outside" namespace joined by a veth plays the rest of the world (10.250.0.1) and the
host's own address is 10.250.0.2 on its `uplink`.
"""

from __future__ import annotations

import ctypes
import os
import secrets
from pathlib import Path

import pytest

from dockyard.libc import LIBC
from dockyard.metadata.db import Database
from dockyard.network import netns
from dockyard.network.config import NetworkConfig
from dockyard.network.controller import NetworkController
from tests.network.harness import HOST_IP, OUTSIDE_IP, Namespaces, Servers, sh


@pytest.fixture
def spaces():
    space = Namespaces(secrets.token_hex(3))
    yield space
    space.delete_all()


@pytest.fixture
def host(spaces: Namespaces):
    """Enter a fresh namespace as the test's host, with an uplink to an outside namespace."""
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    name = spaces.add("host")
    outside = spaces.add("out")
    sh("ip", "link", "add", "uplink", "netns", name, "type", "veth", "peer", "name", "wan", "netns", outside)
    sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", "uplink", ns=name)
    sh("ip", "link", "set", "uplink", "up", ns=name)
    sh("ip", "route", "add", "default", "via", OUTSIDE_IP, ns=name)
    sh("ip", "addr", "add", f"{OUTSIDE_IP}/24", "dev", "wan", ns=outside)
    sh("ip", "link", "set", "wan", "up", ns=outside)
    netns.enter(spaces.path(name))
    try:
        yield {"name": name, "outside": outside}
    finally:
        if LIBC.setns(original, netns.CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back to the test's namespace failed")
        os.close(original)


@pytest.fixture
def controller(host, tmp_path: Path):
    db = Database(tmp_path / "dockyard.db")
    ctl = NetworkController(db, NetworkConfig(host_resolv_conf=tmp_path / "resolv.conf"))
    (tmp_path / "resolv.conf").write_text(f"nameserver {OUTSIDE_IP}\n")
    ctl.start()
    yield ctl
    ctl.uninstall()
    db.close()


@pytest.fixture
def servers(tmp_path: Path):
    running = Servers(tmp_path)
    yield running
    running.stop()
