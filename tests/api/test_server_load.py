"""The API server under load and hostile clients: many connections, stalled and trickling
clients, oversized heads, long streams. A real ApiServer on a temp socket, spoken to over raw
sockets; the engine behind it is a small stand-in whose calls block or stream as told, since
what is under test is the server, not the engine."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dockyard.api import ApiServer, Backends
from dockyard.api.connection import DEFAULT_LIMITS, Limits


class StandIn:
    """Containers and system calls for the routes these tests use."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.removed: list[str] = []
        self.streams_open = 0
        self._lock = threading.Lock()

    def list(self, all, limit, size, filters) -> list[dict]:
        return [{"Id": "c" * 64, "Names": ["/web"]}]

    def remove(self, ref, force, volumes) -> None:
        time.sleep(0.3)  # a forced removal stops the process first
        self.removed.append(ref)

    def events(self, since, until, filters) -> Iterator[dict]:
        with self._lock:
            self.streams_open += 1
        try:
            yield {"Type": "container", "Action": "start"}
            self.release.wait(30)
        finally:
            with self._lock:
                self.streams_open -= 1


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    engine = StandIn()
    yield engine
    engine.release.set()


def start(engine: StandIn, limits: Limits = DEFAULT_LIMITS, workers: int = 8) -> tuple[ApiServer, threading.Thread]:
    directory = Path(tempfile.mkdtemp(prefix="dy-load-", dir="/tmp"))
    server = ApiServer(Backends(engine, engine, engine, engine), directory / "api.sock", limits, workers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def serve(stand_in):
    started: list[tuple[ApiServer, threading.Thread]] = []

    def run(**kwargs) -> ApiServer:
        started.append(start(stand_in, **kwargs))
        return started[-1][0]

    yield run
    for server, thread in started:
        server.shutdown()
        thread.join(10)
        shutil.rmtree(server.socket_path.parent, ignore_errors=True)


def connect(server: ApiServer, timeout: float = 10) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(server.socket_path))
    return sock


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Read exactly one Content-Length response (byte by byte in the head, so a pipelined
    answer behind it stays unread); return its status and body."""
    reader = sock.makefile("rb", buffering=0)
    status_line = reader.readline()
    if not status_line:
        raise ConnectionError("closed before the response")
    fields = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        fields[name.lower()] = value.strip()
    length = int(fields.get("content-length", "0"))
    body = b""
    while len(body) < length and (part := reader.read(length - len(body))):
        body += part
    return int(status_line.split(b" ")[1]), body


PING = b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"


def ping(server: ApiServer, timeout: float = 5) -> float:
    """Ping on a new connection; return how long the answer took."""
    began = time.monotonic()
    with connect(server, timeout) as sock:
        sock.sendall(PING)
        assert read_response(sock) == (200, b"OK")
    return time.monotonic() - began


def test_the_listen_backlog_is_the_kernels_maximum(stand_in, tmp_path):
    """Connections nobody has accepted yet wait in the backlog; with the stdlib's 5, the 7th gets EAGAIN."""
    server = ApiServer(Backends(stand_in, stand_in, stand_in, stand_in), tmp_path / "api.sock")
    socks = []
    try:
        for _ in range(1000):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            socks.append(sock)
            sock.setblocking(False)
            sock.connect(str(server.socket_path))  # BlockingIOError once the backlog is full
    finally:
        for sock in socks:
            sock.close()
        server.shutdown()


def test_stalled_half_requests_do_not_keep_a_new_ping_out(serve):
    server = serve(workers=4)
    stalled = [connect(server) for _ in range(50)]
    try:
        for sock in stalled:
            sock.sendall(b"POST /containers/create HTTP/1.1\r\nHost: docker\r\nContent-Ty")
        time.sleep(0.2)
        assert ping(server, timeout=2) < 1.0
    finally:
        for sock in stalled:
            sock.close()


def test_a_thousand_concurrent_clients_are_all_answered(serve):
    server = serve(workers=16)

    def client(i: int) -> tuple[int, bytes]:
        with connect(server, timeout=30) as sock:
            path = b"/_ping" if i % 2 else b"/containers/json"
            sock.sendall(b"GET %s HTTP/1.1\r\nHost: docker\r\n\r\n" % path)
            return read_response(sock)

    with ThreadPoolExecutor(max_workers=1000) as pool:
        answers = list(pool.map(client, range(1000)))
    assert [status for status, _ in answers] == [200] * 1000
    assert {body for _, body in answers} == {b"OK", json.dumps([{"Id": "c" * 64, "Names": ["/web"]}]).encode() + b"\n"}


def test_thirty_parallel_removals_all_succeed(serve, stand_in):
    """`docker rm -f $(docker ps -aq)` with 30 containers: the CLI removes in parallel."""
    server = serve(workers=8)

    def remove(i: int) -> int:
        with connect(server, timeout=30) as sock:
            sock.sendall(b"DELETE /v1.44/containers/c%d?force=1 HTTP/1.1\r\nHost: docker\r\n\r\n" % i)
            return read_response(sock)[0]

    with ThreadPoolExecutor(max_workers=30) as pool:
        assert list(pool.map(remove, range(30))) == [204] * 30
    assert sorted(stand_in.removed) == sorted(f"c{i}" for i in range(30))


def test_a_trickling_body_is_cut_off_and_never_delays_others(serve):
    limits = Limits(body_grace=1.0, body_min_rate=100, body_idle=0.5)
    server = serve(limits=limits, workers=2)
    trickler = connect(server)
    trickler.sendall(b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 5000\r\n\r\n{")
    began = time.monotonic()
    try:
        for _ in range(12):
            trickler.sendall(b" ")
            assert ping(server, timeout=2) < 0.5
            time.sleep(0.2)
    except (BrokenPipeError, ConnectionResetError):
        pass  # cut off: what the test wants
    status, body = read_response(trickler)
    assert status == 400 and b"timed out reading the request body" in body
    assert time.monotonic() - began < 3.0
    trickler.close()


def test_a_body_that_stops_is_cut_off_after_the_idle_limit(serve):
    server = serve(limits=Limits(body_idle=0.3))
    with connect(server) as sock:
        sock.sendall(b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 50\r\n\r\n{")
        began = time.monotonic()
        status, body = read_response(sock)
        assert status == 400 and b"timed out" in body
        assert time.monotonic() - began < 2
        assert sock.recv(10) == b""  # and the connection is closed


def test_a_head_that_never_ends_is_closed_at_its_deadline(serve):
    server = serve(limits=Limits(head_timeout=0.5))
    with connect(server) as sock:
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n")
        began = time.monotonic()
        assert sock.recv(100) == b""
        assert 0.3 < time.monotonic() - began < 2.5


def test_an_oversized_head_is_431_and_bounded(serve):
    server = serve(limits=Limits(max_head=8 * 1024))
    with connect(server) as sock:
        sock.sendall(b"GET /_ping HTTP/1.1\r\nX-Big: " + b"a" * 20000)
        status, body = read_response(sock)
        assert status == 431 and json.loads(body) == {"message": "request header fields too large"}


def test_long_streams_do_not_starve_short_requests(serve, stand_in):
    server = serve(workers=2)
    streams = [connect(server) for _ in range(40)]
    try:
        for sock in streams:
            sock.sendall(b"GET /events HTTP/1.1\r\nHost: d\r\n\r\n")
        for sock in streams:
            data = b""
            while b'"start"' not in data:
                data += sock.recv(4096)
            assert data.startswith(b"HTTP/1.1 200 OK")
        assert stand_in.streams_open == 40
        assert ping(server, timeout=2) < 0.5
    finally:
        for sock in streams:
            sock.close()


def test_idle_keep_alive_connections_hold_no_thread(serve):
    server = serve(workers=4)
    before = threading.active_count()
    conns = [connect(server) for _ in range(300)]
    try:
        for sock in conns:
            sock.sendall(PING)
            assert read_response(sock) == (200, b"OK")
        assert threading.active_count() - before <= 4
        for sock in conns[:10]:  # and each one still serves its next request
            sock.sendall(PING)
            assert read_response(sock) == (200, b"OK")
    finally:
        for sock in conns:
            sock.close()


def test_pipelined_requests_are_answered_in_order(serve):
    server = serve()
    with connect(server) as sock:
        sock.sendall(PING + b"GET /containers/json HTTP/1.1\r\nHost: d\r\n\r\n" + PING)
        assert read_response(sock) == (200, b"OK")
        assert read_response(sock)[0] == 200
        assert read_response(sock) == (200, b"OK")


def test_smuggling_shapes_are_refused(serve):
    server = serve()
    bad = [
        b"POST /containers/create HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST /containers/create HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        b"GET /_ping HTTP/1.1\r\nHost : d\r\n\r\n",
        b"GET /_ping HTTP/1.1\r\nHost: d\r\n folded\r\n\r\n",
    ]
    for request in bad:
        with connect(server) as sock:
            sock.sendall(request)
            status, body = read_response(sock)
            assert status == 400, request
            assert json.loads(body)["message"]
    assert ping(server) < 1
