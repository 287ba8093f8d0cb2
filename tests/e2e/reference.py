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


class ReferenceDockerd:
    def __init__(self, netns: str | None = None, default_bridge: bool = False) -> None:
        self.netns = netns  # run dockerd in this named network namespace (the caller's to delete)
        self.default_bridge = default_bridge  # only sensible inside a netns of its own
        self.base = Path(tempfile.mkdtemp(prefix="dockyard-refd-", dir="/var/tmp"))
        self.host = f"unix://{self.base / 'docker.sock'}"
        self.process: subprocess.Popen | None = None

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
                *([] if self.default_bridge else ["--bridge=none"]),
                "--iptables=false",
                "--ip6tables=false",
                "--ip-masq=false",
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
