"""The registry client against a registry that lies or misdirects: credentials stay with the host they are
for, and each lie (redirect loop, oversized or mislabelled manifest, wrong sizes) is a clear error that
leaves the store clean."""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dockyard.content.local import LocalContentStore
from dockyard.distribution.auth import RegistryAuth
from dockyard.distribution.client import Registries, redirected
from dockyard.distribution.config import RegistryConfig
from dockyard.distribution.credentials import Credentials, DockerConfigFile
from dockyard.distribution.fetcher import Fetcher
from dockyard.distribution.resolver import Resolver, VerificationFailed
from dockyard.distribution.transport import Request, Response
from dockyard.errors import Unauthorized, Unavailable
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.platform import Platform
from dockyard.oci.reference import parse_reference
from dockyard.paths import DataRoot

BASIC = "Basic " + base64.b64encode(b"u:p").decode()
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
LAYER = b"layer bytes" * 100


def doc(kind: str = mt.OCI_MANIFEST) -> bytes:
    config = {"mediaType": mt.OCI_CONFIG, "digest": str(Digest.of(CONFIG)), "size": len(CONFIG)}
    layer = {"mediaType": mt.OCI_LAYER, "digest": str(Digest.of(LAYER)), "size": len(LAYER)}
    return json.dumps({"schemaVersion": 2, "mediaType": kind, "config": config, "layers": [layer]}).encode()


class Stub:
    """A registry whose every answer is `answer(path) -> (status, headers, body)`; records what it was sent."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.seen: list[tuple[str, str | None]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                stub.seen.append((self.path, self.headers.get("Authorization")))
                status, headers, body = stub.answer(self.path)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Transfer-Encoding" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def stub():
    made = []

    def make(answer) -> Stub:
        made.append(Stub(answer))
        return made[-1]

    yield make
    for s in made:
        s.close()


def resolve(tmp_path, address: str, tag: str = "v1"):
    registries = Registries(RegistryConfig(), DockerConfigFile(tmp_path / "cfg.json"))
    ref = parse_reference(f"{address}/lies/app:{tag}")
    return Resolver(registries).resolve(ref, Platform("linux", "amd64"), Credentials("u", "p"))


def manifest_answer(body: bytes, content_type: str = mt.OCI_MANIFEST, **extra):
    def answer(path):
        if path == "/v2/":
            return 200, {}, b"{}"
        if "/manifests/" in path:
            return 200, {"Content-Type": content_type, **extra}, body
        if path.endswith(str(Digest.of(CONFIG))):
            return 200, {}, CONFIG
        return 404, {}, b"{}"

    return answer


def test_a_good_stub_resolves(stub, tmp_path):
    resolved = resolve(tmp_path, stub(manifest_answer(doc())).address)
    assert resolved.digest == Digest.of(doc())


def test_redirect_loop_is_a_clear_error(stub, tmp_path):
    looping = stub(lambda path: (302, {"Location": path}, b""))
    with pytest.raises(Unavailable, match="stopped after 5 redirects"):
        resolve(tmp_path, looping.address)


def test_manifest_too_large_is_refused_declared_or_not(stub, tmp_path):
    huge = doc()[:-1] + b', "pad": "' + b"x" * (5 << 20) + b'"}'
    with pytest.raises(VerificationFailed, match="larger than 4194304 bytes"):
        resolve(tmp_path, stub(manifest_answer(huge)).address)

    def chunked(path):
        status, headers, body = manifest_answer(huge)(path)
        if "/manifests/" not in path:
            return status, headers, body
        framed = b"".join(
            b"%x\r\n%s\r\n" % (len(c), c) for c in (body[i : i + 65536] for i in range(0, len(body), 65536))
        )
        return status, {**headers, "Transfer-Encoding": "chunked"}, framed + b"0\r\n\r\n"

    with pytest.raises(VerificationFailed, match="larger than 4194304 bytes"):
        resolve(tmp_path, stub(chunked).address)


def test_mislabelled_manifest_is_refused(stub, tmp_path):
    with pytest.raises(
        VerificationFailed, match=re.escape(f"Content-Type {mt.OCI_INDEX} for a manifest of media type")
    ):
        resolve(tmp_path, stub(manifest_answer(doc(), mt.OCI_INDEX)).address)


def test_index_that_lies_about_a_child_size_is_refused(stub, tmp_path):
    child = doc()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": str(Digest.of(child)),
                    "size": len(child) + 7,
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()

    def answer(path):
        if path.endswith("/manifests/v1"):
            return 200, {"Content-Type": mt.OCI_INDEX}, index
        return manifest_answer(child)(path)

    with pytest.raises(VerificationFailed, match=f"is {len(child)} bytes, its descriptor says {len(child) + 7}"):
        resolve(tmp_path, stub(answer).address)


def test_blob_with_a_wrong_content_length_is_refused(stub, tmp_path):
    def answer(path):
        return 200, {"Content-Length": str(len(LAYER) + 10)}, LAYER + b"0123456789"

    lying = stub(answer)
    registries = Registries(RegistryConfig(), DockerConfigFile(tmp_path / "cfg.json"))
    store = LocalContentStore(DataRoot(tmp_path / "store"))
    descriptor = Descriptor(mt.OCI_LAYER, Digest.of(LAYER), len(LAYER))
    ref = parse_reference(f"{lying.address}/lies/app:v1")
    with pytest.raises(VerificationFailed, match=f"Content-Length {len(LAYER) + 10} for blob sha256:"):
        Fetcher(registries).fetch(ref, [descriptor], store)
    assert list(store.list()) == [] and list(store.root.ingest.iterdir()) == []


def test_redirect_to_another_host_or_to_http_drops_credentials():
    request = Request("GET", "https://reg.example/v2/x/blobs/sha256:1", {"Authorization": BASIC})

    def moved(location: str) -> Request:
        response = Response(request, None, lambda keep: None, status=307)
        response.headers["Location"] = location
        return redirected(request, response)

    assert moved("/v2/elsewhere").headers == {"Authorization": BASIC}
    assert moved("https://reg.example/v2/y").headers == {"Authorization": BASIC}
    assert moved("http://reg.example/v2/y").headers == {}  # downgrade
    assert moved("https://store.example/bucket").headers == {}  # another host
    assert moved("https://reg.example:8443/v2/y").headers == {}  # another origin
    with pytest.raises(Unavailable, match="redirect without a Location"):
        redirected(request, Response(request, None, lambda keep: None, status=302))


def test_redirect_on_the_wire_to_another_host_drops_credentials(stub, tmp_path):
    storage = stub(lambda path: (200, {}, LAYER))
    registry = stub(lambda path: (307, {"Location": f"http://localhost:{storage.address.split(':')[1]}/b"}, b""))
    registries = Registries(RegistryConfig(), DockerConfigFile(tmp_path / "cfg.json"))
    store = LocalContentStore(DataRoot(tmp_path / "store"))
    descriptor = Descriptor(mt.OCI_LAYER, Digest.of(LAYER), len(LAYER))
    ref = parse_reference(f"{registry.address}/lies/app:v1")
    Fetcher(registries).fetch(ref, [descriptor], store, credentials=Credentials("u", "p"))
    assert store.path(descriptor.digest).read_bytes() == LAYER
    assert storage.seen == [("/b", None)]


USER = Credentials("u", "p")


def challenge(url: str, realm: str, credentials: Credentials | None = USER):
    flow = RegistryAuth(credentials).auth_flow(Request("GET", url), ("repository:x:pull",))
    first = next(flow)
    response = Response(first, None, lambda keep: None, status=401)
    response.headers["WWW-Authenticate"] = f'Bearer realm="{realm}",service="s"'
    return flow.send(response)


def test_credentials_never_go_to_a_plain_http_realm_of_an_https_registry():
    with pytest.raises(Unauthorized, match="refusing to send the credentials for reg.example to http://"):
        challenge("https://reg.example/v2/x", "http://reg.example/token")
    with pytest.raises(Unauthorized, match="refusing"):
        challenge("http://reg.example/v2/x", "http://auth.example/token")  # another host over http
    assert challenge("https://reg.example/v2/x", "https://auth.example/token").headers["Authorization"] == BASIC
    assert challenge("http://reg.example:5000/v2/x", "http://reg.example:5001/t").headers["Authorization"] == BASIC
    anonymous = challenge("https://reg.example/v2/x", "http://reg.example/token", credentials=None)
    assert "Authorization" not in anonymous.headers
