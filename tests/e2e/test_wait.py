"""A `wait` whose client goes away must not keep a daemon thread forever."""

from __future__ import annotations

import os
import socket
import time


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_an_abandoned_wait_releases_its_thread(daemon):
    name = f"waited-{os.getpid()}"
    daemon.cli("run", "-d", "--name", name, "busybox", "sleep", "300")
    try:
        pid = daemon.process.pid
        time.sleep(0.5)
        before = _threads(pid)
        clients = []
        for _ in range(5):
            client = socket.socket(socket.AF_UNIX)
            client.connect(str(daemon.socket))
            client.sendall(f"POST /v1.44/containers/{name}/wait?condition=removed HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert client.recv(12) == b"HTTP/1.1 200"
            clients.append(client)
        # each wait holds a thread of its own; the first may be the API pool's idle worker
        assert _threads(pid) >= before + 4
        for client in clients:
            client.close()
        deadline = time.monotonic() + 10
        while _threads(pid) > before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _threads(pid) <= before
    finally:
        daemon.cli("rm", "-f", name)
