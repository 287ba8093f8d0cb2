"""Requests per second through a published port vs. the same server run on the host directly.

    python bench/network_publish.py [--requests 2000] [--concurrency 8] [--mtu 1500] [--path all]

Everything happens in network namespaces this script makes and deletes, each playing "the
host", so the machine's own network is never touched. Each path is a `Site`: the same
busybox httpd run directly in that namespace (host-direct, 127.0.0.1:18000) and in a
container published as 127.0.0.1:18080:

    controller   a bare namespace wired by a NetworkController, the httpd in a second one
    container    a real dockyard daemon (run inside the namespace) and a busybox container
                 started with `dockyard run -d -p 127.0.0.1:18080:80 busybox httpd`
    docker       when Debian's dockerd is installed: the same through a reference dockerd
                 (its default bridge, iptables and docker-proxy) in a namespace of its own

dockyard publishes with iptables DNAT (no proxy). Load comes from ApacheBench (`ab`),
HTTP/1.0 without keep-alive, so each request is a new connection as in the issue's
measurement. Every round measures, per site and body, host-direct, then the container by
its own address (no -p: what the path costs without NAT), then published; sites and rounds
interleave. Prints the median share of host-direct per round, with min and max.
bench/all.py opens the container and docker sites and calls `measure_round`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from tests.e2e.daemon import BUSYBOX_ROOTFS, DOCKER, Daemon, _unmount_under  # noqa: E402

from dockyard.metadata.db import Database  # noqa: E402
from dockyard.network import netns  # noqa: E402
from dockyard.network.config import NetworkConfig  # noqa: E402
from dockyard.network.controller import NetworkController  # noqa: E402
from dockyard.network.portspec import PortSpec  # noqa: E402

BODIES = {"small.txt": b"hello\n" * 16, "big.bin": b"\0" * (1 << 20)}
DIRECT, PUBLISHED = "127.0.0.1:18000", "127.0.0.1:18080"


@dataclass(frozen=True, slots=True)
class Site:
    """A namespace playing the host: httpd on DIRECT there, a container's on PUBLISHED (and `ip`:80)."""

    label: str
    ns: str
    container_ip: str


def ab(ns: str, url: str, requests: int, concurrency: int) -> float:
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "ab", "-q", "-n", str(requests), "-c", str(concurrency), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))


def measure_round(site: Site, body: str, requests: int, concurrency: int) -> dict[str, float]:
    """Requests per second host-direct, to the container by its address, and through the port."""
    urls = {"direct": DIRECT, "by-ip": f"{site.container_ip}:80", "published": PUBLISHED}
    return {key: ab(site.ns, f"http://{where}/{body}", requests, concurrency) for key, where in urls.items()}


@contextlib.contextmanager
def www_root() -> Iterator[Path]:
    """A directory with the BODIES, for every httpd of every site."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        www = Path(tmp) / "www"
        www.mkdir()
        for name, content in BODIES.items():
            (www / name).write_bytes(content)
        yield www


def httpd(ns: str, www: Path, address: str) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-h", str(www), "-p", address])


@contextlib.contextmanager
def namespace(name: str) -> Iterator[str]:
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name])


@contextlib.contextmanager
def running(proc: subprocess.Popen) -> Iterator[subprocess.Popen]:
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def controller_site(www: Path, mtu: int, tag: str) -> Iterator[Site]:
    with namespace(f"dybench{tag}h") as host_ns, namespace(f"dybench{tag}c") as box_ns:
        db = Database(www.parent / "dockyard.db")
        ctl = NetworkController(db, NetworkConfig(host_resolv_conf=www.parent / "resolv.conf", mtu=mtu))

        def wire() -> str:
            ctl.start()
            endpoint = ctl.connect("bridge", "b" * 64, f"/run/netns/{box_ns}", "bench")
            ctl.publish("b" * 64, [PortSpec(80, "tcp", "127.0.0.1", 18080)])
            return endpoint.ip

        try:
            ip = netns.run_in(f"/run/netns/{host_ns}", wire)
            with running(httpd(host_ns, www, DIRECT)), running(httpd(box_ns, www, "80")):
                time.sleep(0.5)
                yield Site("controller", host_ns, ip)
        finally:
            netns.run_in(f"/run/netns/{host_ns}", ctl.uninstall)
            db.close()


HTTPD = ("busybox", "httpd", "-f", "-p", "80", "-h", "/www")


@contextlib.contextmanager
def dockyard_site(www: Path, mtu: int, tag: str) -> Iterator[Site]:
    with namespace(f"dybench{tag}d") as ns:
        daemon = Daemon(netns=ns, config={"mtu": mtu})
        try:
            daemon.start()
            daemon.import_busybox()
            cid = daemon.cli("run", "-d", "-v", f"{www}:/www:ro", "-p", f"{PUBLISHED}:80", *HTTPD).stdout.strip()
            ip = daemon.inspect(cid)["NetworkSettings"]["IPAddress"]
            with running(httpd(ns, www, DIRECT)):
                time.sleep(0.5)
                yield Site("dockyard", ns, ip)
        finally:
            daemon.cleanup()


@contextlib.contextmanager
def docker_site(www: Path, mtu: int, tag: str) -> Iterator[Site]:
    """A reference dockerd with its defaults (bridge, iptables, docker-proxy) in a namespace of its own."""
    base = Path(tempfile.mkdtemp(prefix="dockyard-bench-dockerd-", dir="/var/tmp"))
    env = {**os.environ, "DOCKER_HOST": f"unix://{base}/docker.sock", "DOCKER_CONFIG": str(base / "client")}

    def docker(*argv: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([DOCKER, *argv], env=env, capture_output=True, check=True, **kw)

    with namespace(f"dybench{tag}k") as ns:
        dockerd = None
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
                        str(mtu),
                    ],
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            while subprocess.run([DOCKER, "version"], env=env, capture_output=True).returncode:
                if dockerd.poll() is not None:
                    raise RuntimeError((base / "dockerd.log").read_text()[-2000:])
                time.sleep(0.2)
            rootfs = subprocess.run([str(BUSYBOX_ROOTFS)], capture_output=True).stdout
            docker("import", "-", "busybox:latest", input=rootfs)
            cid = docker("run", "-d", "-v", f"{www}:/www:ro", "-p", f"{PUBLISHED}:80", *HTTPD).stdout.strip()
            ip = docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", cid).stdout.decode().strip()
            with running(httpd(ns, www, DIRECT)):
                time.sleep(0.5)
                yield Site("docker", ns, ip)
        finally:
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


SITES = {"controller": controller_site, "container": dockyard_site, "docker": docker_site}


def shares(
    sites: Sequence[Site], rounds: int, requests: int, concurrency: int
) -> dict[tuple[str, str], dict[str, list[float]]]:
    """(site, body) -> {"published": [share of host-direct per round], "by-ip": [...]}, interleaved."""
    found: dict[tuple[str, str], dict[str, list[float]]] = {}
    for r in range(rounds):
        shift = r % len(sites)
        for site in [*sites[shift:], *sites[:shift]]:
            for body in BODIES:
                rate = measure_round(site, body, requests, concurrency)
                cell = found.setdefault((site.label, body), {"published": [], "by-ip": [], "direct": []})
                cell["published"].append(rate["published"] / rate["direct"])
                cell["by-ip"].append(rate["by-ip"] / rate["direct"])
                cell["direct"].append(rate["direct"])
    return found


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):>5.0%} ({min(values):.0%}-{max(values):.0%})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mtu", type=int, default=1500, help="MTU of the bridges and veths")
    parser.add_argument("--path", choices=("controller", "container", "docker", "all"), default="all")
    parser.add_argument("--lo-mtu", type=int, help="loopback MTU of each site (host-direct at that MTU)")
    args = parser.parse_args()
    tag = secrets.token_hex(3)
    chosen = [name for name in SITES if args.path in (name, "all") and (name != "docker" or shutil.which("dockerd"))]
    with www_root() as www, contextlib.ExitStack() as stack:
        sites = [stack.enter_context(SITES[name](www, args.mtu, tag)) for name in chosen]
        for site in sites if args.lo_mtu else ():
            subprocess.run(
                ["ip", "netns", "exec", site.ns, "ip", "link", "set", "lo", "mtu", str(args.lo_mtu)], check=True
            )
        lo = f", loopback MTU {args.lo_mtu}" if args.lo_mtu else ""
        print(f"MTU {args.mtu}{lo}, {args.rounds} rounds; share of host-direct: median (min-max)", flush=True)
        print(f"{'path':<11}{'body':<10}{'host-direct':>12}{'by its IP':>18}{'published':>18}")
        for (label, body), cell in shares(sites, args.rounds, args.requests, args.concurrency).items():
            direct = statistics.median(cell["direct"])
            print(f"{label:<11}{body:<10}{direct:>10.0f}/s{spread(cell['by-ip']):>18}{spread(cell['published']):>18}")


if __name__ == "__main__":
    sys.exit(main())
