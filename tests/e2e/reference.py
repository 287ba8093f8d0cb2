"""A reference dockerd (Debian's docker.io) on its own data root and socket, for interop tests.

It runs with --bridge=none --iptables=false so it touches nothing of the host's network,
and is stopped and deleted afterwards. Start it only where `dockerd` is installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.e2e.daemon import DOCKER, _run, _unmount_under

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"


# no bridge, no iptables: nothing of the host's network is touched
ISOLATED = ("--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false")


class ReferenceDockerd:
    def __init__(self, netns: str | None = None, options: tuple[str, ...] = ISOLATED) -> None:
        """`options` are dockerd's network (and other) flags; `netns` a named netns to run in."""
        self.base = Path(tempfile.mkdtemp(prefix="dockyard-refd-", dir="/var/tmp"))
        self.host = f"unix://{self.base / 'docker.sock'}"
        self.process: subprocess.Popen | None = None
        self.netns, self.options = netns, options

    def start(self, wait: float = 40) -> ReferenceDockerd:
        log = open(self.base / "dockerd.log", "ab")
        enter = ["nsenter", f"--net=/run/netns/{self.netns}", "--"] if self.netns else []
        self.process = subprocess.Popen(
            [
                *enter,
                DOCKERD,
                "--data-root",
                str(self.base / "data"),
                "--exec-root",
                str(self.base / "exec"),
                "-H",
                self.host,
                "--pidfile",
                str(self.base / "dockerd.pid"),
                *self.options,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.base / "dockerd.log").read_text()[-2000:])
            if self.docker("version", check=False).returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError("dockerd did not answer")

    def docker(self, *args: str, input=None, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {**os.environ, "DOCKER_HOST": self.host, "DOCKER_CONFIG": str(self.base / "docker-config")}
        return _run([DOCKER, *args], input, check, timeout, env)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        _unmount_under(self.base)
        shutil.rmtree(self.base, ignore_errors=True)
