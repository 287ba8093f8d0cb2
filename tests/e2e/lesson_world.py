"""The lesson's world for end-to-end tests and the benchmark: a netns with a route out, a
daemon in it with the lesson's local registry as its Docker Hub mirror, prepared by
scripts/lesson.sh.

The daemon's namespace reaches the Internet (the Debian mirror, PyPI) through a veth to the
machine's namespace and one MASQUERADE rule there; both are removed at teardown. The registry
lesson.sh starts listens on the namespace's own loopback, as it would on a user's machine.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.daemon import DOCKYARD, REPO, Daemon
from tests.network.harness import Namespaces, sh

LESSON_SH = REPO / "scripts" / "lesson.sh"
REGISTRY = "127.0.0.1:5055"
MIRROR = f"http://{REGISTRY}"
PASSWORD = "password!"


class NattedNamespace:
    """A named netns with address 10.251.x.2 whose default route is NATed by the machine."""

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.spaces = Namespaces(tag)
        self.link = f"dyl{tag}"
        self.subnet = f"10.251.{secrets.randbelow(250)}"
        self.rule = ["POSTROUTING", "-s", f"{self.subnet}.0/30", "!", "-o", self.link, "-j", "MASQUERADE"]
        self.name = ""

    def create(self) -> str:
        self.name = self.spaces.add("lesson")
        sh("ip", "link", "add", self.link, "type", "veth", "peer", "name", "uplink", "netns", self.name)
        sh("ip", "addr", "add", f"{self.subnet}.1/30", "dev", self.link)
        sh("ip", "link", "set", self.link, "up")
        sh("ip", "addr", "add", f"{self.subnet}.2/30", "dev", "uplink", ns=self.name)
        sh("ip", "link", "set", "uplink", "up", ns=self.name)
        sh("ip", "route", "add", "default", "via", f"{self.subnet}.1", ns=self.name)
        sh("iptables", "-t", "nat", "-A", *self.rule)
        return self.name

    def delete(self) -> None:
        sh("iptables", "-t", "nat", "-D", *self.rule, check=False)
        sh("ip", "link", "del", self.link, check=False)
        self.spaces.delete_all()


class LessonWorld:
    """The namespace, the lesson's state dir (registry storage) and a daemon using the mirror."""

    def __init__(self) -> None:
        self.netns = NattedNamespace()
        self.state = Path(tempfile.mkdtemp(prefix="dockyard-lesson-", dir="/var/tmp"))
        self.daemon: Daemon | None = None

    def start(self) -> LessonWorld:
        ns = self.netns.create()
        self.daemon = Daemon(netns=ns, config={"registry-mirrors": [MIRROR]}).start()
        return self

    def prepare(self, timeout: float = 1500) -> float:
        """Run scripts/lesson.sh in the namespace against the daemon; its duration."""
        env = {
            **os.environ,
            "DOCKYARD_HOST": self.daemon.host,
            "LESSON_STATE": str(self.state),
            "LESSON_REGISTRY": REGISTRY,
            "LESSON_DAEMON_JSON": str(self.state / "daemon.json"),
            "DOCKYARD": DOCKYARD,
        }
        began = time.monotonic()
        result = sh(str(LESSON_SH), ns=self.netns.name, env=env, timeout=timeout, check=False)
        if result.returncode != 0:
            registry = (
                (self.state / "registry.log").read_text()[-2000:] if (self.state / "registry.log").exists() else ""
            )
            raise AssertionError(f"lesson.sh exited {result.returncode}: {result.stderr[-3000:]}\n{registry}")
        return time.monotonic() - began

    def fresh_daemon(self) -> Daemon:
        """Replace the daemon that prepared the lesson by a new one on an empty data root (the
        registry stays): a user's machine that has never seen the images, so pulls are cold."""
        self.daemon.cleanup()
        self.daemon = Daemon(netns=self.netns.name, config={"registry-mirrors": [MIRROR]}).start()
        return self.daemon

    def in_ns(self, *args: str, **kw) -> subprocess.CompletedProcess[str]:
        return sh(*args, ns=self.netns.name, check=False, **kw)

    def psql(self, sql: str, password: str = PASSWORD) -> tuple[int, str]:
        """The lesson's `psql -h 0.0.0.0 -p 5432 -U postgres` on the daemon's host, one command."""
        result = self.in_ns(
            "env", f"PGPASSWORD={password}", "psql", "-h", "0.0.0.0", "-p", "5432", "-U", "postgres",
            "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql, timeout=30,
        )  # fmt: skip
        return result.returncode, result.stdout + result.stderr

    def psql_when_ready(self, sql: str, within: float = 60) -> str:
        """The output of the first `sql` that succeeds, retrying while the server starts."""
        deadline = time.monotonic() + within
        while True:
            code, out = self.psql(sql)
            if code == 0:
                return out.strip()
            if time.monotonic() > deadline:
                raise AssertionError(f"psql never succeeded: {out}")
            time.sleep(0.1)

    def http_get_when_ready(self, url: str, within: float = 30) -> str:
        """The body of a GET from the daemon's host ("" if nothing answered in time)."""
        code = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=3).read().decode(), end='')"
        deadline = time.monotonic() + within
        while True:
            result = self.in_ns(sys.executable, "-c", code, timeout=20)
            if result.returncode == 0 or time.monotonic() > deadline:
                return result.stdout
            time.sleep(0.1)

    def stop(self) -> None:
        if self.daemon:
            self.daemon.cleanup()
        pid_file = self.state / "registry.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        self.netns.delete()
        subprocess.run(["rm", "-rf", str(self.state)], check=False)
