"""Slow clients: a client that trickles one byte a second, or sends half a request and stalls, is cut off
by the per-request deadlines (408), and other clients are served meanwhile."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from dockyard.registry.config import Config
from tests.registry.registry_support import Client, RunningRegistry


@pytest.fixture
def running(tmp_path):
    config = Config(read_timeout=30, header_timeout=1.5, body_grace=1.0, body_min_rate=1000, max_connections=8)
    server = RunningRegistry(tmp_path / "storage", config)
    yield server
    server.close()


class Trickler(threading.Thread):
    """Sends `prefix` at once, then `data` one byte per `interval` (or its first `stall_after` bytes and
    nothing more) until the server answers or closes; records the answer and how long it took."""

    def __init__(
        self, host: str, data: bytes, interval: float = 1.0, stall_after: int | None = None, prefix: bytes = b""
    ) -> None:
        super().__init__(daemon=True)
        address, port = host.split(":")
        self.sock = socket.create_connection((address, int(port)), timeout=30)
        self.sock.sendall(prefix)
        self.data, self.interval, self.stall_after = data, interval, stall_after
        self.answer, self.elapsed = b"", 0.0

    def run(self) -> None:
        started = time.monotonic()
        self.sock.settimeout(self.interval)
        try:
            if self.stall_after is not None:
                self.sock.sendall(self.data[: self.stall_after])
                self.sock.settimeout(30)
            else:
                for i in range(len(self.data)):
                    self.sock.sendall(self.data[i : i + 1])
                    try:
                        if chunk := self.sock.recv(4096):
                            self.answer += chunk
                            break
                        break  # closed
                    except TimeoutError:
                        continue
            self.sock.settimeout(30)
            while chunk := self.sock.recv(4096):
                self.answer += chunk
        except OSError:
            pass
        self.elapsed = time.monotonic() - started
        self.sock.close()


def served_meanwhile(running: RunningRegistry, tricklers: list[Trickler]) -> int:
    """GET /v2/ on fresh connections until every trickler is done; returns how many were answered, asserting speed."""
    answered = 0
    while any(t.is_alive() for t in tricklers):
        started = time.monotonic()
        client = Client(running.host)
        assert client.request("GET", "/v2/").status == 200
        assert time.monotonic() - started < 0.5
        client.close()
        answered += 1
        time.sleep(0.05)
    return answered


def test_one_byte_per_second_headers_are_cut_off(running):
    request = b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 100 + b"\r\n\r\n"
    tricklers = [Trickler(running.host, request) for _ in range(6)]
    for t in tricklers:
        t.start()
    assert served_meanwhile(running, tricklers) > 5
    for t in tricklers:
        t.join()
        assert t.answer.startswith(b"HTTP/1.1 408 "), t.answer
        assert t.elapsed < 5  # the per-read timeout (30 s) never fired: the header deadline did


def test_one_byte_per_second_body_is_cut_off_and_the_upload_kept_resumable(running):
    client = Client(running.host)
    location = client.request("POST", "/v2/slow/body/blobs/uploads/").headers["location"]
    head = f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n".encode()
    trickler = Trickler(running.host, b"b" * 500, prefix=head)
    trickler.start()
    assert served_meanwhile(running, [trickler]) > 3
    trickler.join()
    assert trickler.answer.startswith(b"HTTP/1.1 408 "), trickler.answer
    assert trickler.elapsed < 6
    assert client.request("GET", location).headers["range"] == "0-0"  # the partial chunk was cut back


def test_half_requests_do_not_hold_the_server(running):
    half = b"PUT /v2/slow/half/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Le"
    stalled = [Trickler(running.host, half, stall_after=len(half) // 2 + i) for i in range(7)]
    for t in stalled:
        t.start()
    assert served_meanwhile(running, stalled) > 3
    for t in stalled:
        t.join()
        assert t.answer.startswith(b"HTTP/1.1 408 ") and t.elapsed < 5
    # all connection slots (8) are free again
    clients = [Client(running.host) for _ in range(8)]
    assert all(c.request("GET", "/v2/").status == 200 for c in clients)


def test_bodiless_requests_queue_for_the_workers_while_uploads_stream_past(tmp_path):
    running = RunningRegistry(tmp_path / "storage", Config(workers=1))
    app = running.server.handler.args[0]
    release, tags = threading.Event(), app.storage.tags

    def slow_tags(name):
        release.wait(10)
        return tags(name)

    app.storage.tags = slow_tags
    try:
        client = running.client()
        location = client.request("POST", "/v2/gate/app/blobs/uploads/").headers["location"]
        holder = threading.Thread(target=lambda: Client(running.host).request("GET", "/v2/gate/app/tags/list"))
        holder.start()
        time.sleep(0.3)
        waiting: list = []
        queued = threading.Thread(target=lambda: waiting.append(Client(running.host).request("GET", "/v2/")))
        queued.start()
        assert Client(running.host).request("PATCH", location, b"streams past the gate").status == 202
        queued.join(0.5)
        assert waiting == []  # the one worker is busy with the slow GET
        release.set()
        queued.join(5)
        holder.join(5)
        assert waiting[0].status == 200
    finally:
        release.set()
        running.close()


def test_a_client_that_reads_a_blob_slowly_is_cut_off(tmp_path):
    running = RunningRegistry(tmp_path / "storage", Config(body_grace=1.0, body_min_rate=256 * 1024))
    try:
        blob = bytes(range(256)) * (16 << 12)  # 16 MiB
        digest = running.client().push_blob("slow/reader", blob)
        address, port = running.host.split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((address, int(port)))
        sock.sendall(f"GET /v2/slow/reader/blobs/{digest} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received, started = 0, time.monotonic()
        while time.monotonic() - started < 15:
            try:
                chunk = sock.recv(1024)
            except ConnectionResetError:
                break  # cut off
            if not chunk:
                break
            received += len(chunk)
            time.sleep(0.05)
            client = Client(running.host)
            assert client.request("GET", "/v2/").status == 200  # others are served meanwhile
            client.close()
        sock.close()
        assert received < len(blob) // 4 and time.monotonic() - started < 4
    finally:
        running.close()
