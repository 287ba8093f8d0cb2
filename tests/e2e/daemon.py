"""A real dockyard daemon on a temporary data root and socket, for end-to-end tests."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUSYBOX_ROOTFS = REPO / "scripts" / "busybox-rootfs.sh"
DOCKER = shutil.which("docker") or "/usr/local/bin/docker"
ENTRY_POINT = str(Path(sys.executable).with_name("dockyard"))  # the environment's console script
DOCKYARD = "/usr/local/bin/dockyard"  # what users type: setup.sh's launcher, the entry point its fallback (0085)


class Daemon:
    """Starts `dockyard daemon`, talks to it through both CLIs, and cleans up after itself."""

    def __init__(self, root: Path | None = None, netns: str | None = None, config: dict | None = None) -> None:
        self.base = root or Path(tempfile.mkdtemp(prefix="dockyard-e2e-", dir="/var/tmp"))
        self.data_root = self.base / "data"
        self.socket = self.base / "dockyard.sock"
        self.host = f"unix://{self.socket}"
        self.process: subprocess.Popen | None = None
        self.netns = netns  # run the daemon in this named network namespace (the caller's to delete)
        # daemon.json settings, written under base and passed as --config-file; outside a netns
        # of its own a test daemon makes no bridge or iptables rule on the machine ("bridge": "none")
        self.config = config if netns else {"bridge": "none", **(config or {})}

    # -- lifecycle ----------------------------------------------------------------------

    def start(self, env: dict[str, str] | None = None) -> Daemon:
        """Start (with `env` added to the daemon's environment) and wait until it answers."""
        first = self.process is None
        log = open(self.base / "daemon.log", "ab")
        enter = ["nsenter", f"--net=/run/netns/{self.netns}", "--"] if self.netns else []
        config = []
        if self.config is not None:
            (self.base / "daemon.json").write_text(json.dumps(self.config))
            config = ["--config-file", str(self.base / "daemon.json")]
        self.process = subprocess.Popen(
            [*enter, DOCKYARD, "daemon", "--data-root", str(self.data_root), "-H", self.host, *config],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.ping():
                return self
            time.sleep(0.05)
        reason = f"daemon {'exited' if self.process.poll() is not None else 'did not answer'}: {self.log()}"
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if first:  # nothing of a test's is here yet: its data root and socket directory go too
            try:
                self.cleanup()
            except Exception as exc:  # the start's failure is the one to report
                reason += f"\n(cleaning up failed too: {exc})"
        raise RuntimeError(reason)  # after a restart the data root stays: it is what the test looks at

    def ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(1)
                s.connect(str(self.socket))
                s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the daemon process only (its containers' shims live on)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)

    def log(self) -> str:
        try:
            return (self.base / "daemon.log").read_text()[-4000:]
        except OSError:
            return ""

    def cleanup(self) -> None:
        """Remove every container (killing its processes), stop the daemon, unmount, delete."""
        if self.process and self.process.poll() is None:
            self.remove_containers()
        self.kill(signal.SIGTERM)
        if _kill_leftover_shims(self.data_root):
            _remove_cgroups(p.name for p in self.data_root.glob("containers/*"))  # a killed shim leaves them
        _unmount_under(self.base)
        shutil.rmtree(self.base, ignore_errors=True)

    def cleanup_after_kills(self) -> None:
        """cleanup() for a test that may have killed the daemon: a dead one is started again
        first, so that it removes its containers; cleanup() runs even when that start fails."""
        try:
            if self.process is not None and self.process.poll() is not None:
                self.start()
        finally:
            self.cleanup()

    def remove_containers(self) -> None:
        """`rm -f` every container (a test's clean-up between tests)."""
        ids = self.cli("ps", "-aq", "--no-trunc", check=False).stdout.split()
        if ids:
            self.cli("rm", "-f", *ids, check=False)

    # -- clients ------------------------------------------------------------------------

    def cli(
        self, *args: str, input: bytes | str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        """Run the dockyard CLI against this daemon."""
        return _run([DOCKYARD, "-H", self.host, *args], input, check, timeout)

    def docker(
        self, *args: str, input: bytes | str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        """Run the real docker CLI against this daemon."""
        env = {**os.environ, "DOCKER_HOST": self.host, "DOCKER_CONFIG": str(self.base / "docker-config")}
        return _run([DOCKER, *args], input, check, timeout, env)

    def client(self, which: str, *args: str, **options) -> subprocess.CompletedProcess:
        """Run `which` ("dockyard" or "docker") against this daemon."""
        return (self.cli if which == "dockyard" else self.docker)(*args, **options)

    def sdk(self):
        """A docker Python SDK client on this daemon's socket."""
        import docker

        return docker.DockerClient(base_url=self.host, timeout=60)

    def import_busybox(self, tag: str = "busybox:latest") -> str:
        rootfs = subprocess.run([str(BUSYBOX_ROOTFS)], check=True, capture_output=True).stdout
        return self.cli("import", "-", tag, input=rootfs).stdout.strip()

    def inspect(self, ref: str) -> dict:
        return json.loads(self.cli("inspect", ref).stdout)[0]


def _run(argv, input, check, timeout, env=None) -> subprocess.CompletedProcess:
    text = not isinstance(input, bytes)
    result = subprocess.run(argv, input=input, capture_output=True, text=text, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"{argv[1:]} exited {result.returncode}: {result.stdout!r} {result.stderr!r}")
    return result


def _kill_leftover_shims(data_root: Path) -> int:
    """SIGKILL shims of this data root still alive (how many); a pid is ours only if it works
    in the pid file's directory (every shim chdirs into its state dir), so a reused pid is spared."""
    killed = 0
    for pid_file in data_root.glob("containers/*/**/shim.pid"):
        try:
            pid = int(pid_file.read_text().split()[0])
            if os.readlink(f"/proc/{pid}/cwd") == str(pid_file.parent):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        except (OSError, ValueError):
            pass
    return killed


def _remove_cgroups(container_ids: Iterable[str]) -> None:
    """Remove the cgroups (v1 and v2, below `dockyard/`) of these containers once their
    processes are gone; a shim's own clean-up never ran when it was killed."""
    for container_id in container_ids:
        for path in glob.glob(f"/sys/fs/cgroup/dockyard/{container_id}") + glob.glob(
            f"/sys/fs/cgroup/*/dockyard/{container_id}"
        ):
            for _ in range(100):  # EBUSY while the last processes exit
                try:
                    for directory, _subdirs, _files in os.walk(path, topdown=False):
                        os.rmdir(directory)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def _unmount_under(base: Path) -> None:
    prefix = str(base) + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f if line.split()[4].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


@contextmanager
def restartable_daemon(config: dict | None = None) -> Iterator[Daemon]:
    """A daemon of one test's own, with busybox, which the test may kill: it is started again
    (so it can remove its containers) before the clean-up."""
    instance = Daemon(config=config)
    try:
        instance.start().import_busybox()
        yield instance
    finally:
        instance.cleanup_after_kills()
