"""`run -it` on a real pseudo-terminal against a scripted daemon: raw mode, resize, echo,
detach keys, and the terminal restored afterwards."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

from tests.cli.conftest import SRC
from tests.cli.recorder import head

CID = "7e" * 32


def echo_upper(conn, request):
    """A TTY container that shouts back what it is sent."""
    conn.sendall(head(101, {"Upgrade": "tcp", "Connection": "Upgrade"}))
    while data := conn.recv(1024):
        conn.sendall(data.upper())


def read_until(fd: int, needle: bytes, timeout: float = 10) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 1024)
            except OSError:
                break
    return seen


def test_run_interactive_tty_echoes_resizes_and_detaches(daemon):
    daemon.replies.update(
        {
            ("POST", "/containers/create"): (201, {"Id": CID}),
            ("POST", f"/containers/{CID}/attach"): echo_upper,
            ("POST", f"/containers/{CID}/wait"): lambda conn, request: conn.sendall(
                head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
            ),
            ("POST", f"/containers/{CID}/start"): (204, ""),
            ("POST", f"/containers/{CID}/resize"): (200, ""),
        }
    )
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from dockyard.cli.main import main; main()",
            "-H",
            f"unix://{daemon.path}",
            "run",
            "-it",
            "busybox",
            "sh",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "PYTHONPATH": SRC},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not daemon.find("POST", "/resize") and time.monotonic() < deadline:
            time.sleep(0.05)
        os.write(master, b"hello\r")
        assert b"HELLO" in read_until(master, b"HELLO")
        os.write(master, b"\x10\x11")
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        after = termios.tcgetattr(slave)
        os.close(master)
        os.close(slave)
    assert after == before
    body = daemon.find("POST", "/containers/create")[0].body
    assert body["Tty"] and body["OpenStdin"] and body["AttachStdin"] and body["StdinOnce"]
    assert body["HostConfig"]["ConsoleSize"] == [33, 101]
    resize = daemon.find("POST", "/resize")[0]
    assert resize.query == {"h": ["33"], "w": ["101"]}
    assert daemon.find("POST", "/attach")[0].query["stdin"] == ["1"]


def run_on_pty(daemon, *args: str) -> tuple[int, bytes]:
    """Run the CLI with stdin/stdout/stderr on a pseudo-terminal; return (exit code, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dockyard.cli.main import main; main()", "-H", f"unix://{daemon.path}", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "PYTHONPATH": SRC},
        start_new_session=True,
    )
    os.close(slave)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 10)
            if not ready:
                break
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            output += data
        return proc.wait(timeout=10), output
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_save_refuses_a_terminal(daemon):
    code, output = run_on_pty(daemon, "save", "busybox")
    assert code == 1 and b"cowardly refusing to save to a terminal" in output
    assert not daemon.find("GET", "/images/get")


def test_pull_on_a_terminal_draws_progress_bars(daemon):
    from tests.cli.recorder import chunked

    messages = [
        {"status": "Pulling from library/busybox", "id": "latest"},
        {"status": "Pulling fs layer", "progressDetail": {}, "id": "aaa"},
        {"status": "Pulling fs layer", "progressDetail": {}, "id": "bbb"},
        {"status": "Downloading", "progressDetail": {"current": 500_000, "total": 1_000_000}, "id": "aaa"},
        {"status": "Pull complete", "progressDetail": {}, "id": "aaa"},
        {"status": "Digest: sha256:" + "d" * 64},
    ]
    import json

    daemon.replies[("POST", "/images/create")] = chunked(200, [json.dumps(m).encode() + b"\n" for m in messages])
    code, output = run_on_pty(daemon, "pull", "busybox")
    assert code == 0
    assert b"aaa: Downloading [" + b"=" * 25 + b">" in output
    assert b"\x1b[2A\x1b[2K\raaa: Downloading" in output
    assert output.rstrip().endswith(b"docker.io/library/busybox:latest")
