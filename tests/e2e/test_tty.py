"""`run -it` and `exec -it` driven through a real pseudo-terminal: type, read, resize, exit."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
import uuid

import pytest

from tests.e2e.daemon import DOCKER, DOCKYARD

pytestmark = pytest.mark.root


class Terminal:
    """A command on the slave side of a pty; this side types and reads the screen bytes."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 24, cols: int = 80) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: its controlling terminal is the pty's slave
            os.execve(argv[0], argv, env)
        self.resize(rows, cols)
        self.seen = b""

    def resize(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def expect(self, pattern: str, timeout: float = 15) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern.encode(), self.seen)
            if match:
                self.seen = self.seen[match.end() :]
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not seen in {self.seen[-500:]!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {pattern!r}: {self.seen[-500:]!r}")
                self.seen += chunk

    def exit_code(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                select.select([self.fd], [], [], 0.1)
                os.read(self.fd, 4096)
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("the client did not exit")


def _argv(daemon, client: str, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "TERM": "xterm", "DOCKER_CONFIG": str(daemon.base / "docker-config")}
    binary = DOCKYARD if client == "dockyard" else DOCKER
    return [binary, "-H", daemon.host, *args], env


def test_run_it_shell_session(daemon, client):
    name = f"tty-{uuid.uuid4().hex[:8]}"
    term = Terminal(*_argv(daemon, client, "run", "-it", "--name", name, "busybox", "sh"))
    term.expect(r"# ")
    term.type("echo $((6*7))\r")
    term.expect(r"42\r\n")
    term.type("tty\r")
    term.expect(r"/dev/pts/\d+\r\n")
    term.type("stty size\r")
    term.expect(r"24 80\r\n")
    term.resize(30, 100)
    time.sleep(0.5)  # SIGWINCH reaches the client, which posts /resize
    term.type("stty size\r")
    term.expect(r"30 100\r\n")
    term.type("exit 3\r")
    assert term.exit_code() == 3
    assert daemon.inspect(name)["State"]["ExitCode"] == 3
    daemon.cli("rm", name)


def test_exec_it_in_a_running_container(daemon, client):
    name = f"exectty-{uuid.uuid4().hex[:8]}"
    daemon.cli("run", "-d", "--name", name, "busybox", "sleep", "600")
    term = Terminal(*_argv(daemon, client, "exec", "-it", name, "sh"), rows=40, cols=120)
    term.expect(r"# ")
    term.type("stty size; echo marker-$((1+1))\r")
    term.expect(r"40 120\r\nmarker-2\r\n")
    term.type("exit 7\r")
    assert term.exit_code() == 7
    daemon.cli("rm", "-f", name)
