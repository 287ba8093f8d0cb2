"""A real ApiServer on a temp unix socket, spoken to over raw HTTP/1.1 (http.client and bytes).

The engine behind it is the real one over the in-memory runtime and snapshotter (conftest.py);
the socket, HTTP parsing, framing and hijack are the real ones.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import stat
import tarfile
import time

import pytest

from dockyard.api import ApiServer
from dockyard.errors import Conflict, InvalidArgument
from dockyard.multiplex import encode_frame


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path) -> None:
        super().__init__("localhost", timeout=10)
        self.path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


def call(server, method, url, body=None, headers=None, chunked=False):
    conn = UnixConnection(server.socket_path)
    try:
        conn.request(method, url, body=body, headers=headers or {}, encode_chunked=chunked)
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def raw_exchange(server, data: bytes) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(server.socket_path))
    sock.sendall(data)
    return sock


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(4096)
        assert part, f"connection closed before the headers ended: {data!r}"
        data += part
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def read_body(sock: socket.socket, head: bytes, rest: bytes) -> bytes:
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")).split(b":")[1]
    )
    while len(rest) < length:
        rest += sock.recv(4096)
    return rest


def read_all(sock: socket.socket, rest: bytes = b"") -> bytes:
    while part := sock.recv(4096):
        rest += part
    return rest


def test_ping_carries_dockerds_headers(server):
    response, body = call(server, "GET", "/_ping")
    assert (response.status, body) == (200, b"OK")
    assert response.getheader("Api-Version") == "1.44"
    assert response.getheader("Server").startswith("Docker/") and response.getheader("Server").endswith("(linux)")
    assert response.getheader("Ostype") == "linux"
    assert response.getheader("Docker-Experimental") == "false"
    assert response.getheader("Builder-Version") == "1"
    assert response.getheader("Content-Type") == "text/plain; charset=utf-8"


def test_head_ping_has_headers_and_no_body(server):
    response, body = call(server, "HEAD", "/_ping")
    assert (response.status, body) == (200, b"")
    assert response.getheader("Content-Length") == "0"
    assert response.getheader("Api-Version") == "1.44"


def test_keep_alive_serves_several_requests_on_one_connection(server, engine):
    engine.run("sleep", "1000", name="web")
    conn = UnixConnection(server.socket_path)
    try:
        conn.request("GET", "/_ping")
        first = conn.getresponse()
        assert first.read() == b"OK"
        sock = conn.sock
        conn.request("GET", "/v1.24/containers/json?all=1&limit=-1")
        second = conn.getresponse()
        assert second.status == 200
        assert [c["Names"] for c in json.loads(second.read())] == [["/web"]]
        assert conn.sock is sock
    finally:
        conn.close()


def test_too_new_version_is_400_with_dockerds_message(server):
    response, body = call(server, "GET", "/v1.99/version")
    assert response.status == 400
    assert json.loads(body) == {"message": "client version 1.99 is too new. Maximum supported API version is 1.44"}
    assert response.getheader("Api-Version") == "1.44"


def test_unknown_route_is_page_not_found(server):
    response, body = call(server, "GET", "/v1.44/nothing/here")
    assert (response.status, json.loads(body)) == (404, {"message": "page not found"})


def test_malformed_json_is_400_and_the_connection_lives_on(server):
    conn = UnixConnection(server.socket_path)
    try:
        conn.request("POST", "/containers/create", body=b'{"Image": ', headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 400
        assert json.loads(response.read())["message"].startswith("invalid JSON in request body")
        conn.request("GET", "/_ping")
        assert conn.getresponse().read() == b"OK"
    finally:
        conn.close()


def test_create_splits_host_config_from_config(server, engine):
    body = {
        "Image": "busybox",
        "Cmd": ["true"],
        "HostConfig": {"Memory": 1 << 24},
        "NetworkingConfig": {"EndpointsConfig": {}},
    }
    response, data = call(
        server,
        "POST",
        "/v1.41/containers/create?name=web",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    assert response.status == 201 and json.loads(data)["Warnings"] == []
    inspected = engine.containers.inspect("web")
    assert inspected["Id"] == json.loads(data)["Id"]
    assert inspected["Config"]["Cmd"] == ["true"] and inspected["HostConfig"]["Memory"] == 1 << 24
    assert "HostConfig" not in inspected["Config"]


def test_errors_map_through_the_table(server, engine):
    response, body = call(server, "GET", "/containers/ghost/json")
    assert (response.status, json.loads(body)) == (404, {"message": "No such container: ghost"})
    engine.containers.create("web", {"Image": "busybox"}, {}, None)
    response, body = call(server, "POST", "/containers/create?name=web", b'{"Image": "busybox"}')
    assert response.status == 409 and 'The container name "/web" is already in use' in json.loads(body)["message"]


def test_start_twice_is_304_with_an_empty_body(server, engine):
    engine.containers.create("web", {"Image": "busybox", "Cmd": ["sleep", "1000"]}, {}, None)
    response, body = call(server, "POST", "/containers/web/start")
    assert (response.status, body) == (204, b"")
    response, body = call(server, "POST", "/containers/web/start")
    assert (response.status, body) == (304, b"")


def test_stop_passes_timeout_and_signal(server, engine):
    engine.run("service", name="web")  # ends on SIGTERM or SIGINT
    response, _ = call(server, "POST", "/containers/web/stop?t=3&signal=SIGINT")
    assert response.status == 204
    assert engine.containers.inspect("web")["State"]["ExitCode"] == 128 + 2


def test_chunked_request_body_reaches_the_engine_whole(server, engine):
    response, saved = call(server, "GET", "/images/get?names=busybox")
    assert response.status == 200
    parts = [saved[:70000], saved[70000:70003], saved[70003:]]
    response, body = call(
        server,
        "POST",
        "/images/load?quiet=1",
        body=iter(parts),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/x-tar"},
        chunked=True,
    )
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert json.loads(body) == {"stream": "Loaded image: busybox:latest\n"}


def test_pull_error_before_any_progress_keeps_its_status(server):
    response, body = call(server, "POST", "/images/create?fromImage=missing&tag=latest")
    assert (response.status, json.loads(body)) == (501, {"message": "pull is not supported without registry access"})


def test_logs_are_multiplexed_without_a_tty(server, engine):
    engine.run("sleep", "1000", name="web")
    engine.runtime.output(engine.state_dir("web"), b"out line\n", 1)
    engine.runtime.output(engine.state_dir("web"), b"err line\n", 2)
    response, body = call(server, "GET", "/containers/web/logs?stdout=1&stderr=1")
    assert response.getheader("Content-Type") == "application/vnd.docker.multiplexed-stream"
    assert body == encode_frame(1, b"out line\n") + encode_frame(2, b"err line\n")
    response, _ = call(server, "GET", "/v1.41/containers/web/logs?stdout=1")
    assert response.getheader("Content-Type") == "application/vnd.docker.raw-stream"
    response, body = call(server, "GET", "/containers/web/logs")
    assert (response.status, json.loads(body)["message"]) == (
        400,
        "Bad parameters: you must choose at least one stream",
    )


def test_wait_and_export_and_events(server, engine):
    engine.run("sleep", "1000", name="web")
    engine.runtime.exit(engine.state_dir("web"), 3)
    response, body = call(server, "POST", "/containers/web/wait?condition=not-running")
    assert (response.status, json.loads(body)) == (200, {"StatusCode": 3, "Error": None})
    response, body = call(server, "POST", "/containers/ghost/wait")
    assert response.status == 404
    response, body = call(server, "GET", "/containers/web/export")
    assert response.getheader("Content-Type") == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert "bin/sleep" in tar.getnames() and "etc/passwd" in tar.getnames()
    until = int(time.time()) + 1
    response, body = call(
        server, "GET", f"/events?since=0&until={until}&filters=%7B%22type%22%3A%5B%22container%22%5D%7D"
    )
    assert [json.loads(line)["Action"] for line in body.splitlines()][:2] == ["create", "start"]


def test_garbage_does_not_kill_the_server(server):
    sock = raw_exchange(server, b"\x00\x01 NOT HTTP AT ALL\r\n\r\n")
    assert read_all(sock).startswith(b"HTTP/1.1 400")
    sock.close()
    sock = raw_exchange(server, b"POST /containers/create HTTP/1.1\r\nContent-Length: nope\r\n\r\n")
    head, rest = read_head(sock)
    assert head.startswith(b"HTTP/1.1 400")
    sock.close()
    sock = raw_exchange(server, b"POST /images/load HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    head, rest = read_head(sock)
    assert head.startswith(b"HTTP/1.1 400") and b"chunked request body" in read_all(sock, rest)
    sock.close()
    assert call(server, "GET", "/_ping")[1] == b"OK"


def _attach_request(path: str, upgrade: bool = True) -> bytes:
    headers = "Connection: Upgrade\r\nUpgrade: tcp\r\n" if upgrade else ""
    return f"POST {path} HTTP/1.1\r\nHost: docker\r\n{headers}Content-Length: 0\r\n\r\n".encode()


def test_attach_upgrades_and_splices_both_ways(server, engine):
    config = {"Image": "busybox", "Cmd": ["cat"], "OpenStdin": True, "StdinOnce": True, "AttachStdin": True}
    engine.containers.create("web", config, {}, None)  # attach works before start
    sock = raw_exchange(server, _attach_request("/v1.44/containers/web/attach?stream=1&stdin=1&stdout=1") + b"early ")
    head, rest = read_head(sock)
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 101 UPGRADED"
    assert b"Content-Type: application/vnd.docker.multiplexed-stream" in lines
    assert b"Upgrade: tcp" in lines and b"Api-Version: 1.44" in lines
    assert call(server, "POST", "/containers/web/start")[0].status == 204
    sock.sendall(b"stdin data")
    sock.shutdown(socket.SHUT_WR)  # half-close: the server must close stdin, then finish output
    output = read_all(sock, rest)
    sock.close()
    assert b"".join(_payloads(output)) == b"early stdin data"
    assert engine.containers.wait("web", "not-running")["StatusCode"] == 0  # cat saw its stdin end


def _payloads(data: bytes) -> list[bytes]:
    out = []
    while data:
        size = int.from_bytes(data[4:8], "big")
        assert data[0] == 1
        out.append(data[8 : 8 + size])
        data = data[8 + size :]
    return out


def test_attach_without_upgrade_header_still_hijacks_with_200(server, engine):
    engine.run("sleep", "1000", name="web")
    sock = raw_exchange(server, _attach_request("/containers/web/attach?stream=1&stdout=1", upgrade=False))
    head, rest = read_head(sock)
    assert head.startswith(b"HTTP/1.1 200 OK")
    engine.runtime.output(engine.state_dir("web"), b"attached\n")
    engine.runtime.exit(engine.state_dir("web"), 0)
    assert read_all(sock, rest) == encode_frame(1, b"attached\n")
    sock.close()


def test_attach_to_a_missing_container_is_a_404_in_plain_text(server):
    """As dockerd writes a failed attach: the message as text on the raw-stream type."""
    sock = raw_exchange(server, _attach_request("/containers/ghost/attach?stream=1"))
    head, rest = read_head(sock)
    assert head.startswith(b"HTTP/1.1 404") and b"Content-Type: application/vnd.docker.raw-stream" in head
    assert read_body(sock, head, rest) == b"No such container: ghost\r\n"
    sock.close()


def test_exec_start_with_tty_is_a_raw_stream(server, engine):
    engine.run("sleep", "1000", name="web")
    body = {"Cmd": ["cat"], "Tty": True, "AttachStdin": True, "AttachStdout": True}
    response, data = call(server, "POST", "/containers/web/exec", json.dumps(body).encode())
    exec_id = json.loads(data)["Id"]
    start = json.dumps({"Detach": False, "Tty": True}).encode()
    request = (
        f"POST /exec/{exec_id}/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(start)}\r\n\r\n"
    ).encode() + start
    sock = raw_exchange(server, request)
    head, rest = read_head(sock)
    assert head.startswith(b"HTTP/1.1 101 UPGRADED")
    assert b"Content-Type: application/vnd.docker.raw-stream" in head
    sock.sendall(b"echo hi\n")
    sock.shutdown(socket.SHUT_WR)
    assert read_all(sock, rest) == b"echo hi\n"
    sock.close()
    response, body = call(server, "POST", f"/exec/{exec_id}/start", json.dumps({"Detach": True}).encode())
    assert response.status == 409 and json.loads(body)["message"].startswith(f"Error: Exec command {exec_id} ")
    detached = json.loads(call(server, "POST", "/containers/web/exec", b'{"Cmd": ["sleep", "1"]}')[1])["Id"]
    response, body = call(server, "POST", f"/exec/{detached}/start", json.dumps({"Detach": True}).encode())
    assert (response.status, body) == (200, b"")


def test_socket_is_0660_and_a_stale_socket_is_replaced(backends, socket_path):
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(socket_path))
    stale.close()  # a socket file nobody listens on, as a crashed daemon leaves it
    api = ApiServer(backends, socket_path)
    try:
        assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o660
        with pytest.raises(Conflict, match="already listening"):
            ApiServer(backends, socket_path)
    finally:
        api.shutdown()
    assert not socket_path.exists()
    socket_path.write_text("not a socket")
    with pytest.raises(InvalidArgument, match="not a socket"):
        ApiServer(backends, socket_path)
    assert socket_path.read_text() == "not a socket"


def test_images_carry_virtual_size_only_before_1_44(server, engine):
    size = engine.images.resolve("busybox").size
    _, body = call(server, "GET", "/v1.43/images/json")
    assert json.loads(body)[0]["VirtualSize"] == size
    _, body = call(server, "GET", "/v1.44/images/json")
    assert "VirtualSize" not in json.loads(body)[0]
    _, body = call(server, "GET", "/v1.41/images/busybox/json")
    assert json.loads(body)["VirtualSize"] == size


def test_legacy_filter_param_is_a_reference_filter_before_1_41(server):
    tags = lambda body: [tag for image in json.loads(body) for tag in image["RepoTags"]]  # noqa: E731
    assert tags(call(server, "GET", "/v1.40/images/json?filter=busy*&all=1")[1]) == ["busybox:latest"]
    assert tags(call(server, "GET", "/v1.40/images/json?filter=other*&all=1")[1]) == []
    assert tags(call(server, "GET", "/v1.44/images/json?filter=other*")[1]) == ["busybox:latest"]


def test_a_client_leaving_a_followed_log_does_not_hold_the_server(server, engine):
    engine.run("sleep", "1000", name="web")
    sock = raw_exchange(server, b"GET /containers/web/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: d\r\n\r\n")
    head, rest = read_head(sock)
    assert b"Transfer-Encoding: chunked" in head
    engine.runtime.output(engine.state_dir("web"), b"tick\n")
    while b"tick" not in rest:
        rest += sock.recv(4096)
    sock.close()
    assert call(server, "GET", "/_ping")[1] == b"OK"


def test_create_returns_the_mac_deprecation_warning(server):
    body = {"Image": "busybox", "MacAddress": "02:42:ac:11:00:02"}
    response, data = call(server, "POST", "/containers/create?name=mac", json.dumps(body).encode())
    assert response.status == 201
    assert json.loads(data)["Warnings"] == [
        "The container-wide MacAddress field is now deprecated. It should be specified in EndpointsConfig instead."
    ]


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/images/search?term=x", "searching a registry is not supported yet"),
        ("POST", "/v1.41/build", "building images is not supported by this server"),
    ],
)
def test_known_but_unserved_endpoints_are_501_not_404(server, method, path, message):
    response, body = call(server, method, path, body=b"{}" if method != "GET" else None)
    assert (response.status, json.loads(body)) == (501, {"message": message})


def test_a_client_resetting_its_connection_is_not_an_error(server, caplog):
    for _ in range(3):
        sock = raw_exchange(server, b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
        time.sleep(0.05)  # the answer sits unread in our buffer, so closing resets the connection
        sock.close()
    time.sleep(0.1)
    assert call(server, "GET", "/_ping")[1] == b"OK"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_peer_closed_sees_a_client_that_went_away():
    from dockyard.api.exchange import peer_closed as _peer_closed

    ours, theirs = socket.socketpair()
    try:
        assert not _peer_closed(ours)
        theirs.sendall(b"GET /next HTTP/1.1\r\n")  # a pipelined request is not a goodbye
        assert not _peer_closed(ours)
        ours.recv(100)
        theirs.close()
        assert _peer_closed(ours)
    finally:
        ours.close()


def test_peer_closed_never_waits_on_a_socket_with_a_timeout():
    """The response was sent with a write timeout; a quiet client must not block the check."""
    from dockyard.api.exchange import peer_closed as _peer_closed

    ours, theirs = socket.socketpair()
    try:
        ours.settimeout(5.0)
        started = time.monotonic()
        assert not _peer_closed(ours)
        assert time.monotonic() - started < 0.5
    finally:
        ours.close()
        theirs.close()


def test_a_hijacked_stream_waits_only_until_the_client_has_read_the_head():
    """docker-py loses stream bytes that arrive with the head; the docker CLI reads it at once."""
    from dockyard.api.exchange import wait_until_read

    ours, theirs = socket.socketpair()
    try:
        ours.sendall(b"HTTP/1.1 101 UPGRADED\r\n\r\n")
        started = time.monotonic()
        wait_until_read(ours, 0.2)  # nobody read it: the whole grace
        assert time.monotonic() - started >= 0.2
        theirs.recv(100)
        started = time.monotonic()
        wait_until_read(ours, 0.2)
        assert time.monotonic() - started < 0.05
    finally:
        ours.close()
        theirs.close()


def test_a_small_answer_goes_out_in_one_write_with_its_head(server, monkeypatch):
    """One write, one wake-up of the client: the docker CLI reads head and body in one go."""
    from dockyard.api.connection import Connection

    writes: list[bytes] = []
    send = Connection.send
    monkeypatch.setattr(
        Connection, "send", lambda self, data, timeout: writes.append(data) or send(self, data, timeout)
    )
    response, body = call(server, "GET", "/version")
    assert response.status == 200 and body.startswith(b"{")
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200") and writes[0].endswith(body)


def test_a_ping_is_answered_by_the_loop_without_a_worker(server, monkeypatch):
    submitted: list[object] = []
    submit = server._pool.submit
    monkeypatch.setattr(server._pool, "submit", lambda task: submitted.append(task) or submit(task))
    for method, path in (("HEAD", "/_ping"), ("GET", "/v1.44/_ping")):
        response, body = call(server, method, path)
        assert (response.status, response.getheader("Api-Version")) == (200, "1.44")
        assert body == (b"" if method == "HEAD" else b"OK")
    assert submitted == []
    response, _ = call(server, "GET", "/version")
    assert response.status == 200 and len(submitted) == 1


def test_pings_from_a_client_that_never_reads_stall_no_one_else(server):
    """The loop answers a ping only into an empty send buffer; the rest go to a worker."""
    hog = raw_exchange(server, b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n" * 3000)  # answers overflow its buffer
    try:
        time.sleep(0.5)  # the loop has answered what it would
        began = time.monotonic()
        response, body = call(server, "GET", "/_ping")
        assert (response.status, body) == (200, b"OK") and time.monotonic() - began < 2
    finally:
        hog.close()
