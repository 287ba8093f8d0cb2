"""A `wait` whose client goes away must not keep a daemon thread forever."""

from __future__ import annotations

import os
import socket
import time


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def _abandon_waits(daemon, name: str, count: int) -> None:
    """Open `count` waits (each answered 200 at once, each held open by a thread), then drop
    their clients."""
    clients = []
    for _ in range(count):
        client = socket.socket(socket.AF_UNIX)
        client.connect(str(daemon.socket))
        client.sendall(f"POST /v1.44/containers/{name}/wait?condition=removed HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert client.recv(12) == b"HTTP/1.1 200"
        clients.append(client)
    for client in clients:
        client.close()


def _settled(pid: int) -> int:
    """The daemon's thread count once it has stopped changing for 2.5 s (a wait notices
    its client has gone within a second)."""
    last, stable_since = _threads(pid), time.monotonic()
    while time.monotonic() - stable_since < 2.5:
        time.sleep(0.1)
        now = _threads(pid)
        if now != last:
            last, stable_since = now, time.monotonic()
    return last


def test_abandoned_waits_release_their_threads(daemon):
    """A thread freed from an abandoned wait may stay in the API pool for the next request;
    one still stuck in its wait would add up, round after round."""
    name = f"waited-{os.getpid()}"
    daemon.cli("run", "-d", "--name", name, "busybox", "sleep", "300")
    try:
        pid = daemon.process.pid
        time.sleep(0.5)
        _abandon_waits(daemon, name, 5)
        after_one = _settled(pid)
        for _ in range(3):
            _abandon_waits(daemon, name, 5)
            assert _settled(pid) <= after_one
    finally:
        daemon.cli("rm", "-f", name)
