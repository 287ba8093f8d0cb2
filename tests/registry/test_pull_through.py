"""The pull-through cache against upstreams that restart, expire tokens, name a token realm elsewhere, and
send blobs slowly or wrongly: tokens are refreshed, credentials stay on the upstream's host, and a blob is
streamed to the client while it fills the cache, visible there only once its digest checked."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bcrypt
import pytest

from dockyard.registry.config import Config
from tests.registry.registry_support import (
    OCI_MANIFEST,
    Client,
    RunningRegistry,
    free_port,
    image_manifest,
    push_image,
    sha,
)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def token_upstream(tmp_path, port: int, secret: str, ttl: int = 300) -> RunningRegistry:
    """dockyard's registry in token mode on a fixed port (so it can be restarted in place)."""
    htpasswd = tmp_path / "htpasswd"
    if not htpasswd.exists():
        htpasswd.write_text(f"bob:{bcrypt.hashpw(b'pw', bcrypt.gensalt(rounds=4)).decode()}\n")
    config = Config(htpasswd=str(htpasswd), token=True, token_secret=secret, token_ttl=ttl)
    running = RunningRegistry.__new__(RunningRegistry)
    from dockyard.registry.server import make_server

    running.server = make_server(f"127.0.0.1:{port}", tmp_path / "upstream", config)
    running.host, running.storage = f"127.0.0.1:{port}", tmp_path / "upstream"
    running.thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    running.thread.start()
    return running


def push_upstream(upstream: RunningRegistry, tag: str) -> str:
    token = Client(upstream.host, basic("bob", "pw")).request("GET", "/token?scope=repository:lib/app:pull,push")
    digest, _ = push_image(Client(upstream.host, "Bearer " + token.json()["token"]), "lib/app", tag)
    return digest


def cache_for(tmp_path, upstream_url: str, **extra) -> RunningRegistry:
    config = Config(proxy_remote_url=upstream_url, proxy_username="bob", proxy_password="pw", **extra)
    return RunningRegistry(tmp_path / "cache", config)


def test_token_refused_after_an_upstream_restart_is_refreshed(tmp_path):
    port = free_port()
    upstream = token_upstream(tmp_path, port, "first-secret")
    cache = cache_for(tmp_path, f"http://127.0.0.1:{port}")
    try:
        one, two = push_upstream(upstream, "1"), push_upstream(upstream, "2")
        client = cache.client()
        assert client.request("GET", "/v2/lib/app/manifests/1").headers["docker-content-digest"] == one
        upstream.close()
        upstream = token_upstream(tmp_path, port, "second-secret")  # every token it gave is void now
        reply = client.request("GET", "/v2/lib/app/manifests/2")
        assert reply.status == 200 and reply.headers["docker-content-digest"] == two
    finally:
        cache.close()
        upstream.close()


def test_expired_upstream_token_is_refreshed(tmp_path):
    port = free_port()
    upstream = token_upstream(tmp_path, port, "s", ttl=1)
    cache = cache_for(tmp_path, f"http://127.0.0.1:{port}")
    try:
        push_upstream(upstream, "1")
        client = cache.client()
        assert client.request("GET", "/v2/lib/app/manifests/1").status == 200
        time.sleep(2.1)  # past any 1 s token's expiry (which is rounded up to a whole second)
        digest = push_upstream(upstream, "2")
        assert client.request("GET", "/v2/lib/app/manifests/2").headers["docker-content-digest"] == digest
    finally:
        cache.close()
        upstream.close()


class FakeUpstream:
    """A registry stub: bearer auth with a realm of our choosing, one manifest, blobs sent as the test says."""

    def __init__(self, realm_host: str | None = None) -> None:
        self.token_auth: list[str | None] = []
        self.blobs: dict[str, bytes] = {}
        self.lies: dict[str, bytes] = {}
        self.release = threading.Event()
        self.blob_gets = 0
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
        self.manifest = json.dumps(image_manifest(config, [b"layer"])).encode()
        self.server = self._serve("127.0.0.1")
        self.token_server = self._serve(realm_host) if realm_host else None

    @property
    def url(self) -> str:
        return "http://{}:{}".format(*self.server.server_address[:2])

    def realm(self) -> str | None:
        if self.token_server is None:
            return None
        return "http://{}:{}/token".format(*self.token_server.server_address[:2])

    def _serve(self, host: str) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((host, 0), self._handler())
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def close(self) -> None:
        self.release.set()
        for server in (self.server, self.token_server):
            if server is not None:
                server.shutdown()
                server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self):
                digest = self.path.rsplit("/", 1)[1]
                self.send_response(200 if digest in fake.blobs else 404)
                self.send_header("Content-Length", str(len(fake.blobs.get(digest, b""))))
                self.end_headers()

            def do_GET(self):
                if self.path.startswith("/token"):
                    fake.token_auth.append(self.headers.get("Authorization"))
                    return self._send(200, json.dumps({"token": "good", "expires_in": 300}).encode())
                realm = fake.realm()
                if realm and self.headers.get("Authorization") != "Bearer good":
                    challenge = f'Bearer realm="{realm}",service="fake"'
                    return self._send(401, b"{}", {"WWW-Authenticate": challenge})
                if "/manifests/" in self.path:
                    return self._send(200, fake.manifest, {"Content-Type": OCI_MANIFEST})
                digest = self.path.rsplit("/", 1)[1]
                if digest not in fake.blobs:
                    return self._send(404, b"{}")
                fake.blob_gets += 1
                data = fake.lies.get(digest, fake.blobs[digest])
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                fake.release.wait(10)
                self.wfile.write(data[len(data) // 2 :])

        return Handler


def test_credentials_never_go_to_a_realm_on_another_host(tmp_path):
    fake = FakeUpstream(realm_host="127.0.0.2")
    cache = cache_for(tmp_path, fake.url)
    try:
        assert cache.client().request("GET", "/v2/lib/app/manifests/1").status == 200
        assert fake.token_auth == [None]
    finally:
        cache.close()
        fake.close()


def test_credentials_go_to_a_realm_on_the_upstream_host(tmp_path):
    fake = FakeUpstream(realm_host="127.0.0.1")
    cache = cache_for(tmp_path, fake.url)
    try:
        assert cache.client().request("GET", "/v2/lib/app/manifests/1").status == 200
        assert fake.token_auth == [basic("bob", "pw")]
    finally:
        cache.close()
        fake.close()


def test_realm_rules():
    from urllib.parse import urlsplit

    from dockyard.registry.proxy import Upstream

    https = Upstream("https://reg.example:443", "u", "p", token_hosts=("auth.example",))
    assert https.may_send_credentials(urlsplit("https://reg.example/token"))
    assert not https.may_send_credentials(urlsplit("http://reg.example/token"))  # downgrade
    assert https.may_send_credentials(urlsplit("https://auth.example/token"))
    assert not https.may_send_credentials(urlsplit("http://auth.example/token"))
    assert not https.may_send_credentials(urlsplit("https://evil.example/token"))
    assert https.may_send_credentials(urlsplit("https://reg.example:8443/token"))  # same host, another port
    assert not Upstream("https://reg.example").may_send_credentials(urlsplit("https://reg.example/t"))  # none to send


def blob_path(cache: RunningRegistry, digest: str):
    return cache.storage / "blobs" / "sha256" / digest.removeprefix("sha256:")


def test_blob_streams_to_the_client_while_it_fills_the_cache(tmp_path):
    fake = FakeUpstream()
    data = bytes(range(256)) * 8192  # 2 MiB
    digest = sha(data)
    fake.blobs[digest] = data
    cache = cache_for(tmp_path, fake.url)
    try:
        conn = http.client.HTTPConnection(cache.host, timeout=10)
        conn.request("GET", f"/v2/lib/app/blobs/{digest}")
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("content-length") == str(len(data))
        first = response.read(len(data) // 4)  # arrives while upstream still holds back its second half
        assert first == data[: len(data) // 4]
        assert not blob_path(cache, digest).exists()
        fake.release.set()
        assert first + response.read() == data
        conn.close()
        deadline = time.monotonic() + 5
        while not blob_path(cache, digest).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert blob_path(cache, digest).read_bytes() == data
        assert cache.client().request("GET", f"/v2/lib/app/blobs/{digest}").body == data
        assert fake.blob_gets == 1
        head = cache.client().request("HEAD", f"/v2/lib/app/blobs/{digest}")
        assert head.headers["content-length"] == str(len(data))
    finally:
        cache.close()
        fake.close()


def test_a_wrong_blob_from_upstream_is_cut_short_and_never_cached(tmp_path):
    fake = FakeUpstream()
    data = b"right bytes" * 100_000
    digest = sha(data)
    fake.blobs[digest] = data
    fake.lies[digest] = b"wrong bytes" * 100_000
    fake.release.set()
    cache = cache_for(tmp_path, fake.url)
    try:
        conn = http.client.HTTPConnection(cache.host, timeout=10)
        conn.request("GET", f"/v2/lib/app/blobs/{digest}")
        response = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()
        assert not blob_path(cache, digest).exists()
        assert list((cache.storage / "uploads").iterdir()) == []
        del fake.lies[digest]
        assert cache.client().request("GET", f"/v2/lib/app/blobs/{digest}").body == data
    finally:
        cache.close()
        fake.close()


def test_head_on_a_miss_asks_upstream_without_caching(tmp_path):
    fake = FakeUpstream()
    fake.blobs[sha(b"abc")] = b"abc"
    cache = cache_for(tmp_path, fake.url)
    try:
        head = cache.client().request("HEAD", f"/v2/lib/app/blobs/{sha(b'abc')}")
        assert head.status == 200 and head.headers["content-length"] == "3"
        assert cache.client().request("HEAD", f"/v2/lib/app/blobs/{sha(b'x')}").status == 404
    finally:
        cache.close()
        fake.close()


pytestmark = pytest.mark.timeout(60)
