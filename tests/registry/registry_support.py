"""Test support for the registry: a server in a thread, a small HTTP client, image builders."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import os
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

from dockyard.registry.config import Config
from dockyard.registry.server import make_server

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RunningRegistry:
    """dockyard's registry serving `storage` on 127.0.0.1 in a background thread."""

    def __init__(self, storage: Path, config: Config | None = None) -> None:
        self.server = make_server("127.0.0.1:0", storage, config)
        self.host = "{}:{}".format(*self.server.address)
        self.storage = storage
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def client(self) -> Client:
        return Client(self.host)

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def codes(self) -> list[str]:
        return [e["code"] for e in self.json()["errors"]]


class Client:
    """A keep-alive HTTP client over http.client, enough to speak the distribution API."""

    def __init__(self, host: str, auth: str | None = None) -> None:
        self.host = host
        self.auth = auth
        self.conn = http.client.HTTPConnection(host, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        headers = dict(headers or {})
        if self.auth and "Authorization" not in headers:
            headers["Authorization"] = self.auth
        if body is None and method in ("POST", "PUT", "PATCH"):
            headers.setdefault("Content-Length", "0")
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def push_blob(self, name: str, data: bytes) -> str:
        digest = sha(data)
        reply = self.request("POST", f"/v2/{name}/blobs/uploads/?digest={digest}", data)
        assert reply.status == 201, reply
        return digest

    def push_manifest(self, name: str, ref: str, doc: dict, media_type: str | None = None) -> Reply:
        data = json.dumps(doc).encode()
        media_type = media_type or doc.get("mediaType", OCI_MANIFEST)
        return self.request("PUT", f"/v2/{name}/manifests/{ref}", data, {"Content-Type": media_type})

    def close(self) -> None:
        self.conn.close()


def descriptor(media_type: str, data: bytes, **extra: object) -> dict:
    return {"mediaType": media_type, "digest": sha(data), "size": len(data), **extra}


def image_manifest(config: bytes, layers: list[bytes], media_type: str = OCI_MANIFEST, **extra: object) -> dict:
    config_type = OCI_CONFIG if media_type == OCI_MANIFEST else "application/vnd.docker.container.image.v1+json"
    layer_type = OCI_LAYER if media_type == OCI_MANIFEST else "application/vnd.docker.image.rootfs.diff.tar.gzip"
    return {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": descriptor(config_type, config),
        "layers": [descriptor(layer_type, layer) for layer in layers],
        **extra,
    }


def push_image(
    client: Client,
    name: str,
    tag: str,
    layers: list[bytes] | None = None,
    media_type: str = OCI_MANIFEST,
    **extra: object,
) -> tuple[str, bytes]:
    """Push config + layers + manifest; returns the manifest digest and bytes."""
    layers = layers if layers is not None else [os.urandom(64)]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": []},
            "nonce": os.urandom(8).hex(),
        }
    ).encode()
    for blob in (config, *layers):
        client.push_blob(name, blob)
    doc = image_manifest(config, layers, media_type, **extra)
    reply = client.push_manifest(name, tag, doc)
    assert reply.status == 201, reply
    return reply.headers["docker-content-digest"], json.dumps(doc).encode()


def layer_tar(files: dict[str, bytes]) -> bytes:
    """A gzipped tar holding `files`, reproducible (mtime 0)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def write_oci_layout(root: Path, tag: str, platforms: list[tuple[str, str]], layer_size: int = 4096) -> str:
    """An OCI image layout at `root`: one image, or an index of one image per platform. Returns the top digest."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        digest = sha(data)
        (blobs / digest[7:]).write_bytes(data)
        return digest

    manifests = []
    for os_name, arch in platforms:
        layer = layer_tar({f"{arch}.bin": os.urandom(layer_size)})
        config = json.dumps(
            {
                "architecture": arch,
                "os": os_name,
                "rootfs": {"type": "layers", "diff_ids": [sha(gzip.decompress(layer))]},
                "config": {},
            }
        ).encode()
        put(layer), put(config)
        manifest = json.dumps(image_manifest(config, [layer])).encode()
        put(manifest)
        manifests.append(descriptor(OCI_MANIFEST, manifest, platform={"os": os_name, "architecture": arch}))
    if len(manifests) == 1:
        top = manifests[0]
    else:
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}).encode()
        put(index)
        top = descriptor(OCI_INDEX, index)
    top = {**top, "annotations": {"org.opencontainers.image.ref.name": tag}}
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    return top["digest"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def has_reference() -> bool:
    """Whether Debian's docker-registry is installed (scripts/setup.sh installs it)."""
    return os.access(ReferenceRegistry.BINARY, os.X_OK)


class ReferenceRegistry:
    """Debian's /usr/bin/docker-registry (distribution 2.8) on a free loopback port, as a subprocess."""

    BINARY = "/usr/bin/docker-registry"

    def __init__(self, root: Path, extra: str = "") -> None:
        import subprocess
        import time

        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        root.mkdir(parents=True, exist_ok=True)
        config = root / "config.yml"
        config.write_text(
            "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
            f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: '{self.host}'}}\n{extra}"
        )
        self.process = subprocess.Popen(
            [self.BINARY, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=open(root / "stderr", "wb")
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if Client(self.host).request("GET", "/v2/").status in (200, 401):
                    return
            except OSError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError("docker-registry did not start")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
