"""Requests per second through a published port vs. the same server run on the host directly.

    python bench/network_publish.py [--requests 2000] [--concurrency 8] [--mtu 1500] [--path all]

Everything happens in network namespaces this script makes and deletes, each playing "the
host", so the machine's own network is never touched. Two paths, each next to the same
busybox httpd run directly in that namespace:

    controller   a bare namespace wired by a NetworkController, `-p 127.0.0.1:18080:80`
    container    a real dockyard daemon (run inside the namespace) and a busybox container
                 started with `dockyard run -d -p 127.0.0.1:18080:80 busybox httpd`
    docker       when Debian's dockerd is installed: the same through a reference dockerd
                 (its default bridge, iptables and docker-proxy) in a namespace of its own

dockyard publishes with iptables DNAT (no proxy). Load comes from ApacheBench (`ab`),
HTTP/1.0 without keep-alive, so each request is a new connection as in the issue's
measurement; host-direct and published runs alternate and the best of `--rounds` is kept.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.daemon import BUSYBOX_ROOTFS, DOCKER, Daemon, _unmount_under  # noqa: E402

from dockyard.metadata.db import Database  # noqa: E402
from dockyard.network import netns  # noqa: E402
from dockyard.network.config import NetworkConfig  # noqa: E402
from dockyard.network.controller import NetworkController  # noqa: E402
from dockyard.network.portspec import parse_port_spec  # noqa: E402

BODIES = {"small.txt": b"hello\n" * 16, "big.bin": b"\0" * (1 << 20)}


def ab(ns: str, url: str, requests: int, concurrency: int) -> float:
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "ab", "-q", "-n", str(requests), "-c", str(concurrency), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))


def compare(ns: str, args: argparse.Namespace, label: str) -> None:
    """Host-direct (port 18000) against published (port 18080), alternating, best of rounds."""
    for path in BODIES:
        direct = published = 0.0
        for _ in range(args.rounds):
            direct = max(direct, ab(ns, f"http://127.0.0.1:18000/{path}", args.requests, args.concurrency))
            published = max(published, ab(ns, f"http://127.0.0.1:18080/{path}", args.requests, args.concurrency))
        print(f"{label:<11}{path:<10}{direct:>12.0f}/s{published:>12.0f}/s{published / direct:>8.0%}", flush=True)


def httpd(ns: str, www: Path, address: str) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-h", str(www), "-p", address])


def controller_path(args: argparse.Namespace, www: Path, tag: str) -> None:
    host_ns, box_ns = f"dybench{tag}h", f"dybench{tag}c"
    procs: list[subprocess.Popen] = []
    for name in (host_ns, box_ns):
        subprocess.run(["ip", "netns", "add", name], check=True)
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
    db = Database(www.parent / "dockyard.db")
    ctl = NetworkController(db, NetworkConfig(host_resolv_conf=www.parent / "resolv.conf", mtu=args.mtu))

    def wire() -> None:
        ctl.start()
        ctl.connect("bridge", "b" * 64, f"/run/netns/{box_ns}", "bench")
        ctl.publish("b" * 64, parse_port_spec("127.0.0.1:18080:80"))

    try:
        netns.run_in(f"/run/netns/{host_ns}", wire)
        procs += [httpd(host_ns, www, "127.0.0.1:18000"), httpd(box_ns, www, "80")]
        time.sleep(0.5)
        compare(host_ns, args, "controller")
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        netns.run_in(f"/run/netns/{host_ns}", ctl.uninstall)
        db.close()
        for name in (box_ns, host_ns):
            subprocess.run(["ip", "netns", "del", name])


def container_path(args: argparse.Namespace, www: Path, tag: str) -> None:
    ns = f"dybench{tag}d"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
    daemon = Daemon(netns=ns, config={"mtu": args.mtu})
    direct = None
    try:
        daemon.start()
        daemon.import_busybox()
        daemon.cli(
            "run",
            "-d",
            "-v",
            f"{www}:/www:ro",
            "-p",
            "127.0.0.1:18080:80",
            "busybox",
            "httpd",
            "-f",
            "-p",
            "80",
            "-h",
            "/www",
        )
        direct = httpd(ns, www, "127.0.0.1:18000")
        time.sleep(0.5)
        compare(ns, args, "container")
    finally:
        if direct is not None:
            direct.kill()
            direct.wait()
        daemon.cleanup()
        subprocess.run(["ip", "netns", "del", ns])


def docker_path(args: argparse.Namespace, www: Path, tag: str) -> None:
    ns, base = f"dybench{tag}k", Path(tempfile.mkdtemp(prefix="dockyard-bench-dockerd-", dir="/var/tmp"))
    env = {**os.environ, "DOCKER_HOST": f"unix://{base}/docker.sock", "DOCKER_CONFIG": str(base / "client")}

    def docker(*argv: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([DOCKER, *argv], env=env, capture_output=True, check=True, **kw)

    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
    dockerd = direct = None
    try:
        with open(base / "dockerd.log", "ab") as log:
            dockerd = subprocess.Popen(
                [
                    "nsenter",
                    f"--net=/run/netns/{ns}",
                    "--",
                    "dockerd",
                    "--data-root",
                    str(base / "data"),
                    "--exec-root",
                    str(base / "exec"),
                    "-H",
                    env["DOCKER_HOST"],
                    "--pidfile",
                    str(base / "pid"),
                    "--cgroup-parent",
                    base.name,
                    "--mtu",
                    str(args.mtu),
                ],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        while subprocess.run([DOCKER, "version"], env=env, capture_output=True).returncode:
            if dockerd.poll() is not None:
                raise RuntimeError((base / "dockerd.log").read_text()[-2000:])
            time.sleep(0.2)
        docker("import", "-", "busybox:latest", input=subprocess.run([str(BUSYBOX_ROOTFS)], capture_output=True).stdout)
        docker(
            "run",
            "-d",
            "-v",
            f"{www}:/www:ro",
            "-p",
            "127.0.0.1:18080:80",
            "busybox",
            "httpd",
            "-f",
            "-p",
            "80",
            "-h",
            "/www",
        )
        direct = httpd(ns, www, "127.0.0.1:18000")
        time.sleep(0.5)
        compare(ns, args, "docker")
    finally:
        if direct is not None:
            direct.kill()
            direct.wait()
        if dockerd is not None:
            ids = subprocess.run([DOCKER, "ps", "-aq"], env=env, capture_output=True, text=True).stdout.split()
            if ids:
                subprocess.run([DOCKER, "rm", "-f", *ids], env=env, capture_output=True)
            dockerd.send_signal(signal.SIGTERM)
            dockerd.wait(timeout=60)
        _unmount_under(base)
        for parent in Path("/sys/fs/cgroup").glob(f"*/{base.name}"):
            parent.rmdir()
        shutil.rmtree(base, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", ns])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mtu", type=int, default=1500, help="MTU of the bridges and veths")
    parser.add_argument("--path", choices=("controller", "container", "docker", "all"), default="all")
    args = parser.parse_args()
    tag = secrets.token_hex(3)
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        www = Path(tmp) / "www"
        www.mkdir()
        for name, body in BODIES.items():
            (www / name).write_bytes(body)
        print(f"MTU {args.mtu}\n{'path':<11}{'body':<10}{'host-direct':>14}{'published':>14}{'ratio':>8}")
        if args.path in ("controller", "all"):
            controller_path(args, www, tag)
        if args.path in ("container", "all"):
            container_path(args, www, tag)
        if args.path in ("docker", "all") and shutil.which("dockerd"):
            docker_path(args, www, tag)


if __name__ == "__main__":
    sys.exit(main())
