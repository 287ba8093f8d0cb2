"""Requests per second through a published port vs. the same server run on the host directly.

    PYTHONPATH=src python bench/network_publish.py [--requests 2000] [--concurrency 8]

Everything happens in network namespaces this script makes and deletes: a "host" namespace
with a dockyard controller, and a "container" namespace running busybox httpd published
with `-p 127.0.0.1:18080:80` (iptables DNAT, no proxy). The host-direct server is the same
busybox httpd in the host namespace. Load comes from ApacheBench (`ab`), HTTP/1.0 without
keep-alive, so each request is a new connection as in the issue's measurement. Docker is
not measured here: the reference dockerd would need an image and its own daemon set-up.
"""

from __future__ import annotations

import argparse
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dockyard.metadata.db import Database
from dockyard.network import netns
from dockyard.network.config import NetworkConfig
from dockyard.network.controller import NetworkController
from dockyard.network.portspec import parse_port_spec


def ab(url: str, requests: int, concurrency: int) -> float:
    out = subprocess.run(["ab", "-q", "-n", str(requests), "-c", str(concurrency), url],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))


def best_of(url: str, requests: int, concurrency: int, rounds: int) -> float:
    return max(ab(url, requests, concurrency) for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mtu", type=int, default=1500)
    args = parser.parse_args()
    tag = secrets.token_hex(3)
    host_ns, box_ns = f"dybench{tag}h", f"dybench{tag}c"
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "www").mkdir()
        (root / "www/small.txt").write_text("hello\n" * 16)
        (root / "www/big.bin").write_bytes(b"\0" * (1 << 20))
        for name in (host_ns, box_ns):
            subprocess.run(["ip", "netns", "add", name], check=True)
            subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        netns.enter(f"/run/netns/{host_ns}")
        db = Database(root / "dockyard.db")
        ctl = NetworkController(db, NetworkConfig(host_resolv_conf=root / "resolv.conf", mtu=args.mtu))
        try:
            ctl.start()
            ctl.connect("bridge", "b" * 64, f"/run/netns/{box_ns}", "bench")
            ctl.publish("b" * 64, parse_port_spec("127.0.0.1:18080:80"))
            httpd = ["busybox", "httpd", "-f", "-h", str(root / "www"), "-p"]
            procs.append(subprocess.Popen([*httpd, "127.0.0.1:18000"]))
            procs.append(subprocess.Popen(["ip", "netns", "exec", box_ns, *httpd, "80"]))
            time.sleep(0.5)
            print(f"{'body':<8}{'host-direct':>14}{'dockyard -p':>14}{'ratio':>8}")
            for path in ("small.txt", "big.bin"):
                direct = best_of(f"http://127.0.0.1:18000/{path}", args.requests, args.concurrency, args.rounds)
                published = best_of(f"http://127.0.0.1:18080/{path}", args.requests, args.concurrency, args.rounds)
                print(f"{path:<8}{direct:>12.0f}/s{published:>12.0f}/s{published / direct:>8.0%}")
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
            ctl.uninstall()
            db.close()
            for name in (box_ns, host_ns):
                subprocess.run(["ip", "netns", "del", name])


if __name__ == "__main__":
    sys.exit(main())
