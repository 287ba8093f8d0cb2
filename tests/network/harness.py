"""Helpers for the network tests: namespaces, probes and servers a test owns.

The host's own address in a test is 10.250.0.2 (its `uplink`); 10.250.0.1 is "outside".
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from dockyard.network.portspec import PortSpec, parse_port_bindings
from dockyard.portspec import parse_port_specs

HOST_IP = "10.250.0.2"
OUTSIDE_IP = "10.250.0.1"


def published(*flags: str) -> list[PortSpec]:
    """`-p` values as the network package gets them: the CLI's PortBindings, read back as specs."""
    return parse_port_bindings(parse_port_specs(list(flags))[1])


def sh(*args: str, check: bool = True, ns: str | None = None, **kw) -> subprocess.CompletedProcess[str]:
    """Run a command, inside the named netns when `ns` is given."""
    prefix = ["ip", "netns", "exec", ns] if ns else []
    return subprocess.run([*prefix, *args], check=check, capture_output=True, text=True, **kw)


class Namespaces:
    """Named network namespaces made by one test, all deleted at teardown."""

    def __init__(self, tag: str) -> None:
        self.tag, self.names = tag, []

    def add(self, label: str) -> str:
        name = f"dyt{self.tag}{label}"[:30]
        sh("ip", "netns", "add", name)
        self.names.append(name)
        sh("ip", "link", "set", "lo", "up", ns=name)
        return name

    def path(self, name: str) -> str:
        return f"/run/netns/{name}"

    def delete_all(self) -> None:
        for name in reversed(self.names):
            sh("ip", "netns", "del", name, check=False)


PROBE = r"""
import socket, sys
kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


def resolve(name):
    # ask the embedded DNS: a bare netns has no container resolv.conf
    from dnslib import DNSRecord
    reply = DNSRecord.parse(DNSRecord.question(name).send("127.0.0.11", 53, timeout=3))
    return sorted(str(r.rdata) for r in reply.rr)


try:
    if kind != "dns" and not host.replace(".", "").isdigit():
        host = resolve(host)[0]
    if kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
        s.sendto(b"ping", (host, port)); print(s.recvfrom(100)[0].decode())
    elif kind == "dns":
        print(" ".join(resolve(host)))
    else:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
        print(s.makefile("rb").read().split(b"\r\n\r\n", 1)[-1].decode())
except (OSError, IndexError) as exc:
    print("error", exc)
"""

UDP_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    data, peer = s.recvfrom(100); s.sendto(b"echo:" + data + b" from " + peer[0].encode(), peer)
"""


def probe(kind: str, host: str, port: int = 0, ns: str | None = None) -> str:
    """Reach host:port over TCP (HTTP GET), UDP (echo) or resolve a name, from a namespace."""
    return sh(sys.executable, "-c", PROBE, kind, host, str(port), ns=ns, timeout=20).stdout.strip()


class Servers:
    """Processes a test started, killed by PID at teardown."""

    def __init__(self, root: Path) -> None:
        self.root, self.procs = root, []

    def http(self, ns: str, port: int, body: str) -> None:
        www = self.root / f"www-{ns}-{port}"
        www.mkdir()
        (www / "index.html").write_text(body)
        self._start(["ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p", str(port), "-h", str(www)])

    def udp_echo(self, ns: str | None, port: int) -> None:
        prefix = ["ip", "netns", "exec", ns] if ns else []
        self._start([*prefix, sys.executable, "-c", UDP_ECHO, str(port)])

    def _start(self, args: list[str]) -> None:
        self.procs.append(subprocess.Popen(args))
        time.sleep(0.3)

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


def ruleset() -> list[str]:
    """Every rule and user chain in the current namespace (tables, policies, counters dropped)."""
    lines = sh("iptables-save").stdout.splitlines()
    return [line.split(" [")[0] for line in lines if line.startswith("-") or (line.startswith(":") and " - " in line)]
