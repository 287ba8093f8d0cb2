"""Daemon restarts: after close() and after SIGKILL, live containers keep working and the
dead ones' rules and interfaces are gone."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.metadata.db import Database
from dockyard.network.config import NetworkConfig
from dockyard.network.controller import NetworkController
from tests.network.harness import probe, published, ruleset, sh

pytestmark = pytest.mark.root
A, B = "a" * 64, "b" * 64

DAEMON = """
import sys, time
from pathlib import Path
from dockyard.metadata.db import Database
from dockyard.network.config import NetworkConfig
from dockyard.network.controller import NetworkController
from dockyard.network.portspec import parse_port_bindings
from dockyard.portspec import parse_port_specs
published = lambda port: parse_port_bindings(parse_port_specs([port])[1])
db, conf, dead, live = sys.argv[1:5]
ctl = NetworkController(Database(Path(db)), NetworkConfig(host_resolv_conf=Path(conf)))
ctl.start()
ctl.create_network("app", subnet="10.90.0.0/24")
for cid, path, port in (("a" * 64, dead, "8081:80"), ("b" * 64, live, "8082:80")):
    ctl.connect("bridge", cid, path, cid[0])
    ctl.connect("app", cid, path, cid[0])
    ctl.publish(cid, published(port))
print("ready", flush=True)
time.sleep(600)
"""


def _controller(tmp_path: Path) -> NetworkController:
    return NetworkController(
        Database(tmp_path / "dockyard.db"), NetworkConfig(host_resolv_conf=tmp_path / "resolv.conf")
    )


def test_restart_after_sigkill_keeps_live_and_cleans_dead(host, spaces, servers, tmp_path):
    (tmp_path / "resolv.conf").write_text("nameserver 10.250.0.1\n")
    baseline, links = ruleset(), sh("ip", "-o", "link").stdout
    dead, live = spaces.add("dead"), spaces.add("live")
    src = str(Path(__file__).resolve().parents[2] / "src")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            DAEMON,
            str(tmp_path / "dockyard.db"),
            str(tmp_path / "resolv.conf"),
            spaces.path(dead),
            spaces.path(live),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": src},
        cwd=tmp_path,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    servers.http(live, 80, "survivor")
    assert any("8081" in rule for rule in ruleset())
    ctl = _controller(tmp_path)
    try:
        ctl.start()
        assert ctl.recover({B: spaces.path(live)}) == [A]
        rules = "\n".join(ruleset())
        assert "8081" not in rules and "--dport 8082" in rules
        assert probe("tcp", "127.0.0.1", 8082) == "survivor"
        assert ctl.store.endpoints(container_id=A) == []
        assert probe("dns", "b", ns=live) == "10.90.0.3"  # DNS sockets re-opened for the live one
        assert "eth0" not in sh("ip", "-o", "link", ns=dead).stdout
        ctl.release(B)
        assert ctl.recover({}) == []
    finally:
        ctl.uninstall()
    assert ruleset() == baseline
    assert sh("ip", "-o", "link").stdout == links


def test_clean_restart_and_stray_interfaces(host, spaces, servers, tmp_path):
    (tmp_path / "resolv.conf").write_text("nameserver 10.250.0.1\n")
    baseline = ruleset()
    c1 = spaces.add("c1")
    ctl = _controller(tmp_path)
    ctl.start()
    ctl.connect("bridge", A, spaces.path(c1), "web")
    ctl.publish(A, published("8083:80"))
    ctl.close()
    sh("ip", "link", "add", "dyvdeadbeef", "type", "veth", "peer", "name", "dypdeadbeef")  # left by a crash mid-connect
    servers.http(c1, 80, "again")
    ctl = _controller(tmp_path)
    try:
        ctl.start()
        assert ctl.recover({A: spaces.path(c1)}) == []
        assert probe("tcp", "127.0.0.1", 8083) == "again"
        assert "deadbeef" not in sh("ip", "-o", "link").stdout
        with pytest.raises(Exception, match="port is already allocated"):
            ctl.publish(A, published("8083:80"))
    finally:
        ctl.uninstall()
    assert ruleset() == baseline
