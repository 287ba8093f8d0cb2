"""Time `run --rm busybox true`: the dockyard CLI and the docker CLI on dockyard, against dockerd.

    python bench/run.py [--rounds 15]

Starts its own dockyard daemon (temporary data root and socket under /var/tmp, as the
end-to-end tests do, with daemon.json `"bridge": "none"`) and, when Debian's `dockerd` is
installed, a reference dockerd on its own --data-root, --exec-root, socket, pid file and
--cgroup-parent, with --bridge=none --iptables=false: neither touches the host's network,
and both run containers without a network of their own beyond loopback. The same busybox
rootfs tarball is imported into both. Each round runs (bench/harness.py: `sync` and a
settle before each command, the order rotated every round):

    docker       the docker CLI on dockerd           docker run --rm busybox true
    dockyard     the `dockyard` on PATH              dockyard run --rm busybox true
    docker->dy   the same docker CLI on dockyard     docker run --rm busybox true

so load on the shared machine hits all three alike, then `python -c pass`: the interpreter's
own start-up, a floor under any Python CLI (site .pth files count here as they do for the
console script). One untimed warm-up round comes first. Prints the median and p90 of each,
and each figure as a fraction of dockerd's. bench/all.py uses `engines` and `targets`.
Like for like: before timing, a container on each daemon shows what it runs under (the
seccomp mode in /proc/self/status and the device cgroup's allow-list); the benchmark stops
unless both filter syscalls (mode 2) and both restrict devices.
Everything it started is stopped by pid, unmounted and deleted on the way out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import tests.e2e.daemon as e2e_daemon  # noqa: E402
from harness import Settle, Target, interleave, timed  # noqa: E402
from tests.e2e.daemon import BUSYBOX_ROOTFS, DOCKER, Daemon, _unmount_under  # noqa: E402

from dockyard.cli.commandserver import own_servers  # noqa: E402

COMMAND = ("run", "--rm", "busybox", "true")
# what dockerd 20.10 makes outside its --data-root/--exec-root (no flag moves these),
# removed again unless it was there before; directories only when empty
DOCKERD_LEFTOVERS = tuple(
    Path(p)
    for p in ("/etc/docker/key.json", "/run/docker/plugins", "/run/docker", "/run/containerd/s", "/run/containerd")
)


def dockyard_cli() -> list[str]:
    """The command users type: /usr/local/bin/dockyard, the launcher setup.sh links there
    (decision 0085), whatever PATH this runs with (scripts/test.sh puts the environment's
    console script first)."""
    if not os.access(e2e_daemon.DOCKYARD, os.X_OK):
        raise RuntimeError(f"no {e2e_daemon.DOCKYARD}: run scripts/setup.sh first")
    return [e2e_daemon.DOCKYARD]


class Dockerd:
    """A reference dockerd (and the containerd it manages) confined to one temp directory."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="dockyard-bench-dockerd-", dir="/var/tmp"))
        self.socket = self.base / "docker.sock"
        self.env = {**os.environ, "DOCKER_HOST": f"unix://{self.socket}", "DOCKER_CONFIG": str(self.base / "client")}
        self.process: subprocess.Popen | None = None
        self.existed = {path for path in DOCKERD_LEFTOVERS if path.exists()}

    def start(self) -> Dockerd:
        (self.base / "daemon.json").write_text("{}")
        argv = [
            "dockerd",
            "--data-root",
            str(self.base / "data"),
            "--exec-root",
            str(self.base / "exec"),
            "-H",
            f"unix://{self.socket}",
            "--pidfile",
            str(self.base / "dockerd.pid"),
            "--config-file",
            str(self.base / "daemon.json"),
            "--cgroup-parent",
            self.base.name,
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
        ]
        with open(self.base / "dockerd.log", "ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited: {self.log()}")
            if self.docker("version", check=False).returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"dockerd did not answer: {self.log()}")

    def docker(self, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([DOCKER, *args], input=input, capture_output=True, env=self.env)
        if check and result.returncode:
            raise RuntimeError(f"docker {' '.join(args)}: {result.stderr.decode()}")
        return result

    def log(self) -> str:
        return (self.base / "dockerd.log").read_text(errors="replace")[-3000:]

    def cleanup(self) -> None:
        """Remove containers, stop dockerd (it stops its containerd), unmount, delete."""
        if self.process and self.process.poll() is None:
            ids = self.docker("ps", "-aq", check=False).stdout.split()
            if ids:
                self.docker("rm", "-f", *(i.decode() for i in ids), check=False)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _unmount_under(self.base)
        for parent in Path("/sys/fs/cgroup").glob(f"*/{self.base.name}"):
            parent.rmdir()
        shutil.rmtree(self.base, ignore_errors=True)
        for path in DOCKERD_LEFTOVERS:
            if path in self.existed or not path.exists():
                continue
            try:
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
            except OSError:  # not empty: something else uses it now
                pass


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def report(samples: dict[str, list[float]]) -> None:
    reference = statistics.median(samples["docker"]) if "docker" in samples else None
    print(f"{'':34} {'median':>8} {'p90':>8} {'vs dockerd':>11}")
    labels = {
        "dockyard": "dockyard CLI -> dockyard",
        "docker->dy": "docker CLI -> dockyard",
        "docker": "docker CLI -> dockerd",
        "python": "python -c pass (the CLI's floor)",
    }
    for key, values in samples.items():
        median = statistics.median(values)
        ratio = f"{median / reference:10.2f}x" if reference else f"{'n/a':>11}"
        print(f"{labels[key]:34} {median * 1000:6.0f}ms {p90(values) * 1000:6.0f}ms {ratio}")


CONFINEMENT = ("sh", "-c", "grep Seccomp: /proc/self/status; cat /sys/fs/cgroup/devices/devices.list | head -1")


def confinement(argv: list[str], env: dict[str, str] | None) -> str:
    """`Seccomp: 2, devices: c 1:3 rwm`-like summary of what a container runs under."""
    result = subprocess.run([*argv, "run", "--rm", "busybox", *CONFINEMENT], env=env, capture_output=True, text=True)
    lines = result.stdout.split("\n")
    return f"{lines[0].replace(chr(9), ' ')}, first device rule: {lines[1] if len(lines) > 1 else '?'}"


def check_like_for_like(dockyard: Daemon, dockerd: Dockerd | None) -> None:
    """Both daemons must run containers with a seccomp filter and a device allow-list."""
    sides = {"dockyard": confinement([*dockyard_cli(), "-H", dockyard.host], None)}
    if dockerd is not None:
        sides["dockerd"] = confinement([DOCKER], dockerd.env)
    for name, summary in sides.items():
        print(f"{name:9} containers run with {summary}")
        if not summary.startswith("Seccomp: 2") or "a *:* rwm" in summary:
            raise RuntimeError(f"{name} does not confine its containers: not a like-for-like comparison")


def targets(dockyard: Daemon, dockerd: Dockerd | None) -> list[Target]:
    """The columns: docker -> dockerd (when there is one), dockyard CLI and docker CLI -> dockyard."""
    dy_env = {**os.environ, "DOCKER_HOST": dockyard.host, "DOCKER_CONFIG": str(dockyard.base / "client")}
    found = [
        Target("dockyard", (*dockyard_cli(), "-H", dockyard.host)),
        Target("docker->dy", (DOCKER,), dy_env),
    ]
    if dockerd is not None:
        found.insert(0, Target("docker", (DOCKER,), dockerd.env, engine="dockerd"))
    return found


@contextmanager
def engines(with_dockerd: bool = True) -> Iterator[tuple[Daemon, Dockerd | None]]:
    """A dockyard daemon (started by the `dockyard` on PATH) and, if asked and installed, a
    reference dockerd; busybox imported into both; both stopped and deleted on the way out."""
    dockyard = Daemon(config={"bridge": "none"})  # no bridge, as dockerd's --bridge=none
    dockerd = Dockerd() if with_dockerd and shutil.which("dockerd") else None
    # the dockyard launcher's CLI server for this run only, stopped after the engines (decision 0085)
    with own_servers("dockyard-bench-cli-"):
        try:
            dockyard.start()
            dockyard.import_busybox()
            if dockerd is not None:
                dockerd.start()
                rootfs = subprocess.run([str(BUSYBOX_ROOTFS)], check=True, capture_output=True).stdout
                dockerd.docker("import", "-", "busybox:latest", input=rootfs)
            yield dockyard, dockerd
        finally:
            dockyard.cleanup()  # its container removals go through the launcher too
            if dockerd is not None:
                dockerd.cleanup()


def bench(rounds: int, dockyard: Daemon, dockerd: Dockerd | None, settle: Settle) -> dict[str, list[float]]:
    """`run --rm busybox true` per column, interleaved, after one untimed warm-up round."""
    columns = targets(dockyard, dockerd)
    interleave(1, columns, lambda t: timed(settle, t, *COMMAND))
    return interleave(rounds, columns, lambda t: timed(settle, t, *COMMAND))


def python_floor(rounds: int, settle: Settle) -> list[float]:
    """`python -c pass`: the interpreter's own start-up, a floor under any Python CLI."""
    return interleave(rounds, [Target("python", (sys.executable, "-c", "pass"))], lambda t: timed(settle, t))["python"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--settle", type=float, default=0.2, help="seconds to wait after sync before each command")
    parser.add_argument("--no-dockerd", action="store_true", help="time dockyard only")
    args = parser.parse_args()
    settle = Settle(args.settle)
    with engines(not args.no_dockerd) as (dockyard, dockerd):
        if dockerd is None:
            print("dockerd not found (apt-get install docker.io) or not asked for: timing dockyard only")
        check_like_for_like(dockyard, dockerd)
        samples = bench(args.rounds, dockyard, dockerd, settle)
        samples["python"] = python_floor(args.rounds, settle)
        report(samples)


if __name__ == "__main__":
    main()
