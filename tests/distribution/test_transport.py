"""Transport and client: TLS against a real HTTPS docker-registry, and what a registry with
filesystem storage cannot show: redirects to another host (as registries backed by object
stores send). The two tiny servers in the redirect test are fakes, and only for that."""

import base64
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.distribution.client import Registries
from dockyard.distribution.config import RegistryConfig
from dockyard.distribution.credentials import Credentials, DockerConfigFile
from dockyard.distribution.fetcher import Fetcher
from dockyard.distribution.pull import pull
from dockyard.distribution.pusher import Pusher
from dockyard.distribution.transport import HandshakeFailed, Request, Tls, Transport
from dockyard.errors import Unavailable
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.reference import parse_reference
from dockyard.paths import DataRoot

from .conftest import free_port, make_certificate
from .imagegen import make_image

BLOB = b"blob bytes behind a redirect" * 1000
BASIC = "Basic " + base64.b64encode(b"u:p").decode()


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def test_blob_redirect_drops_credentials(tmp_path):
    seen = {}

    class Storage(BaseHTTPRequestHandler):
        def do_GET(self):
            seen["storage"] = self.headers.get("Authorization")
            self.send_response(200)
            self.send_header("Content-Length", str(len(BLOB)))
            self.end_headers()
            self.wfile.write(BLOB)

        def log_message(self, *args):
            pass

    storage, storage_thread = serve(Storage)

    class Registry(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != BASIC:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="r"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            seen["registry"] = self.headers.get("Authorization")
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{storage.server_address[1]}/bucket/blob?sig=1")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    registry, registry_thread = serve(Registry)
    try:
        registries = Registries(RegistryConfig(), DockerConfigFile(tmp_path / "cfg.json"))
        store = LocalContentStore(DataRoot(tmp_path / "store"))
        ref = parse_reference(f"127.0.0.1:{registry.server_address[1]}/x/y:latest")
        descriptor = Descriptor(mt.OCI_LAYER, Digest.of(BLOB), len(BLOB))
        Fetcher(registries).fetch(ref, [descriptor], store, credentials=Credentials("u", "p"))
    finally:
        for server, thread in ((registry, registry_thread), (storage, storage_thread)):
            server.shutdown()
            server.server_close()
            thread.join()
    assert store.path(descriptor.digest).read_bytes() == BLOB
    assert seen == {"registry": BASIC, "storage": None}


def test_refused_connection_is_unavailable_in_gos_words():
    url = f"http://127.0.0.1:{free_port()}/v2/"
    with pytest.raises(Unavailable, match=f'Get "{url}": connect: connection refused'):
        Transport(timeout=2).send(Request("GET", url))


def test_tls_registry_over_https(tls_registry, tmp_path):
    registry, cert = tls_registry
    url = f"{registry.url}/v2/"
    ok = Transport().send(Request("GET", url, tls=Tls(verify=True, ca_files=(str(cert),))))
    ok.read()
    assert ok.status == 200
    with pytest.raises(Unavailable, match="certificate verify failed"):
        Transport().send(Request("GET", url))
    # Loopback is insecure-by-default: HTTPS without verification is tried first, and works.
    source = LocalContentStore(DataRoot(tmp_path / "source"))
    manifest = make_image(source, [{"over": b"tls"}])
    registries = Registries(RegistryConfig(certs_dir=tmp_path / "none"), DockerConfigFile(tmp_path / "cfg.json"))
    ref = parse_reference(f"{registry.address}/secure/app:v1")
    Pusher(registries).push(ref, manifest, source)
    resolved = pull(registries, ref, LocalContentStore(DataRoot(tmp_path / "target")))
    assert resolved.endpoint.url.startswith("https://") and resolved.digest == manifest.digest


def test_an_http_registry_costs_one_failed_handshake(registry, tmp_path, monkeypatch):
    # Loopback is insecure by default: HTTPS is tried first, and a handshake that failed is
    # not retried (no back-off sleeps) before HTTP is tried.
    schemes = []
    connect = Transport._connection
    monkeypatch.setattr(Transport, "_connection", lambda self, key: schemes.append(key[0]) or connect(self, key))
    source = LocalContentStore(DataRoot(tmp_path / "source"))
    manifest = make_image(source, [{"plain": b"http"}])
    ref = parse_reference(f"{registry.address}/plain/app:v1")
    Pusher(Registries(RegistryConfig(), DockerConfigFile(tmp_path / "cfg.json"))).push(ref, manifest, source)
    schemes.clear()
    fresh = Registries(RegistryConfig(), DockerConfigFile(tmp_path / "cfg.json"))  # knows no working endpoint
    resolved = pull(fresh, ref, LocalContentStore(DataRoot(tmp_path / "target")))
    assert resolved.endpoint.url.startswith("http://") and resolved.digest == manifest.digest
    assert schemes.count("https") == 1


def test_certs_d_ca_makes_verification_pass(tls_registry, tmp_path):
    registry, cert = tls_registry
    certs = tmp_path / "certs.d" / registry.address
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes(cert.read_bytes())
    tls = RegistryConfig(certs_dir=tmp_path / "certs.d").tls(registry.address)
    assert tls.ca_files == (str(certs / "ca.crt"),)
    response = Transport().send(Request("GET", f"{registry.url}/v2/", tls=Tls(True, tls.ca_files)))
    response.read()
    assert response.status == 200


def test_a_certs_d_file_replaced_in_place_is_read_again(tls_registry, tmp_path):
    registry, cert = tls_registry
    wrong, _ = make_certificate(tmp_path / "other", "other")
    certs = tmp_path / "certs.d" / registry.address
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes(wrong.read_bytes())
    config = RegistryConfig(certs_dir=tmp_path / "certs.d")
    verified = Tls(True, config.tls(registry.address).ca_files)  # loopback is not verified by default
    with pytest.raises(HandshakeFailed, match="certificate verify failed"):
        Transport().send(Request("GET", f"{registry.url}/v2/", tls=verified))
    (certs / "ca.crt").write_bytes(cert.read_bytes())  # fixed under the same name, as docker's docs say
    response = Transport().send(Request("GET", f"{registry.url}/v2/", tls=verified))
    response.read()
    assert response.status == 200


def _dropping_proxy(target: str, drop: int) -> socket.socket:
    """A TCP proxy to `target` that ends its first `drop` connections right after the client's
    first bytes (a TLS front end going away mid-handshake); close() the returned listener."""
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = target.rsplit(":", 1)

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def serve() -> None:
        for accepted in range(1 << 20):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if accepted < drop:
                conn.recv(65536)
                conn.close()
                continue
            upstream = socket.create_connection((host, int(port)))
            threading.Thread(target=pipe, args=(conn, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_a_dropped_tls_handshake_is_retried(tls_registry, tmp_path):
    # EOF in the middle of a handshake (a TLS front end going away) is worth another try; were
    # it final, the pull would fall through to plain HTTP, which this registry refuses
    registry, _ = tls_registry
    source = LocalContentStore(DataRoot(tmp_path / "source"))
    manifest = make_image(source, [{"over": b"tls"}])
    registries = Registries(RegistryConfig(certs_dir=tmp_path / "none"), DockerConfigFile(tmp_path / "cfg.json"))
    Pusher(registries).push(parse_reference(f"{registry.address}/secure/app:v1"), manifest, source)
    proxy = _dropping_proxy(registry.address, drop=1)
    try:
        ref = parse_reference(f"127.0.0.1:{proxy.getsockname()[1]}/secure/app:v1")
        fresh = Registries(RegistryConfig(certs_dir=tmp_path / "none"), DockerConfigFile(tmp_path / "cfg.json"))
        resolved = pull(fresh, ref, LocalContentStore(DataRoot(tmp_path / "target")))
    finally:
        proxy.close()
    assert resolved.endpoint.url.startswith("https://") and resolved.digest == manifest.digest
