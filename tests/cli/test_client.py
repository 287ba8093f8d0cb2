"""The HTTP client on its own: framing, keep-alive, error mapping, hijack."""

import socket

import pytest

from dockyard.cli.client import Client, DaemonUnreachable, encode_request, socket_path
from dockyard.errors import Conflict, InvalidArgument, NotFound, RuntimeFailure
from tests.cli.recorder import chunked, head


def test_request_encoding():
    raw = encode_request("POST", "/v1.44/containers/x/start", {}, None)
    assert raw.startswith(b"POST /v1.44/containers/x/start HTTP/1.1\r\n")
    assert b"Content-Length: 0\r\n" in raw and raw.endswith(b"\r\n\r\n")
    assert b"Content-Length" not in encode_request("GET", "/v1.44/info", {}, None)
    chunked_head = encode_request("POST", "/x", {"Transfer-Encoding": "chunked"}, None)
    assert b"Content-Length" not in chunked_head


def test_urls_are_versioned_and_encoded():
    client = Client("unix:///nowhere")
    assert client.url("/containers/json") == "/v1.44/containers/json"
    url = client.url("/x", {"all": True, "limit": None, "filters": {"a": {"b": True}}, "names": ["p", "q r"]})
    assert url == "/v1.44/x?all=1&filters=%7B%22a%22%3A%7B%22b%22%3Atrue%7D%7D&names=p&names=q+r"


@pytest.mark.parametrize("host,path", [("unix:///run/x.sock", "/run/x.sock"), ("/tmp/y.sock", "/tmp/y.sock")])
def test_socket_path(host, path):
    assert socket_path(host) == path


def test_tcp_hosts_are_refused_clearly():
    with pytest.raises(InvalidArgument, match="only unix:// sockets are supported"):
        socket_path("tcp://127.0.0.1:2375")


def test_keep_alive_uses_one_connection(daemon):
    daemon.replies[("GET", "/info")] = (200, {"ID": "x"})
    daemon.replies[("GET", "/events")] = chunked(200, [b'{"a":1}\n', b'{"b":2}\n'])
    client = Client(f"unix://{daemon.path}")
    connections = []
    original = client._connect

    def counting():
        connections.append(1)
        return original()

    client._connect = counting
    assert client.get("/info") == {"ID": "x"}
    assert b"".join(client.request("GET", "/events").iter_raw()) == b'{"a":1}\n{"b":2}\n'
    assert client.get("/info") == {"ID": "x"}
    assert len(connections) == 1
    client.close()


def test_unread_stream_forces_a_fresh_connection(daemon):
    daemon.replies[("GET", "/events")] = chunked(200, [b"x" * 10] * 5)
    daemon.replies[("GET", "/info")] = (200, {"ok": True})
    client = Client(f"unix://{daemon.path}")
    next(client.request("GET", "/events").iter_raw(4))
    assert client.get("/info") == {"ok": True}


@pytest.mark.parametrize(
    "status,cls", [(400, InvalidArgument), (404, NotFound), (409, Conflict), (500, RuntimeFailure)]
)
def test_error_statuses_map_to_error_classes(daemon, status, cls):
    daemon.replies[("POST", "/containers/x/start")] = (status, {"message": "the daemon's words"})
    with pytest.raises(cls, match="the daemon's words") as info:
        Client(f"unix://{daemon.path}").call("POST", "/containers/x/start")
    assert info.value.status == status


def test_plain_text_error_body(daemon):
    daemon.replies[("GET", "/info")] = (500, "boom\n")
    with pytest.raises(RuntimeFailure, match="^boom$"):
        Client(f"unix://{daemon.path}").get("/info")


def test_no_daemon(tmp_path):
    with pytest.raises(DaemonUnreachable, match="Is the daemon running"):
        Client(f"unix://{tmp_path}/none.sock").get("/info")


def test_hijack_keeps_bytes_sent_with_the_101(daemon):
    def upgrade(conn, request):
        conn.sendall(head(101, {"Upgrade": "tcp", "Connection": "Upgrade"}) + b"early bytes")
        data = conn.recv(100)
        conn.sendall(b"|" + data)

    daemon.replies[("POST", "/containers/x/attach")] = upgrade
    client = Client(f"unix://{daemon.path}")
    sock, reader, response = client.open("POST", "/containers/x/attach", {"stream": True}, upgrade=True)
    assert response.status == 101
    sock.sendall(b"ping")
    sock.shutdown(socket.SHUT_WR)
    received = b""
    while chunk := reader.read1(100):
        received += chunk
    assert received == b"early bytes|ping"
    sock.close()


def test_hijack_error_is_raised(daemon):
    daemon.replies[("POST", "/containers/x/attach")] = (
        409,
        {"message": "container x is paused, unpause the container before attach"},
    )
    with pytest.raises(Conflict, match="is paused"):
        Client(f"unix://{daemon.path}").open("POST", "/containers/x/attach", upgrade=True)


def test_upload_with_length_and_chunked(daemon, tmp_path):
    import io

    daemon.replies[("POST", "/images/load")] = (200, {"stream": "ok"})
    client = Client(f"unix://{daemon.path}")
    client.upload("POST", "/images/load", None, io.BytesIO(b"abc" * 30000), "application/x-tar", 90000).read()
    client.upload("POST", "/images/load", None, io.BytesIO(b"xyz" * 30000), "application/x-tar").read()
    first, second = daemon.find("POST", "/images/load")
    assert first.headers["content-length"] == "90000" and first.body == b"abc" * 30000
    assert second.headers["transfer-encoding"] == "chunked" and second.body == b"xyz" * 30000
