"""Push an image (manifest or index) from the content store to a registry.

For each blob: HEAD it (already there: done); else mount it from another repository of the
same registry when the caller knows one (`POST uploads/?mount=<digest>&from=<repo>`); else
upload it: POST to open a session, then one PUT with the whole body, falling back to
PATCH chunks + a closing PUT when the registry refuses the monolithic PUT. Then the
manifests, children of an index first, by digest, and the top one by the reference's tag.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO
from urllib.parse import urlencode

from dockyard.content.store import ContentStore
from dockyard.distribution import progress as p
from dockyard.distribution.auth import repository_scope
from dockyard.distribution.client import Registries, RegistryClient, raise_for_status
from dockyard.distribution.config import Endpoint
from dockyard.distribution.credentials import Credentials
from dockyard.distribution.resolver import VerificationFailed
from dockyard.distribution.transport import Request, Response
from dockyard.errors import NotFound, NotSupported, Unavailable
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import Index, Manifest, parse_manifest
from dockyard.oci.reference import Reference

CHUNK = 16 << 20
MONOLITHIC_REFUSED = (400, 404, 405, 413, 416, 501)


class Pusher:
    """Publishes images from a content store to their registry (never to a mirror)."""

    def __init__(self, registries: Registries, chunk_size: int = CHUNK) -> None:
        self.registries = registries
        self.chunk_size = chunk_size

    def push(
        self,
        ref: Reference,
        image: Manifest | Index,
        store: ContentStore,
        progress: p.ProgressCallback = p.ignore,
        mount_from: Mapping[Digest, str] | None = None,
        credentials: Credentials | None = None,
    ) -> Descriptor:
        """Push `image` and its blobs as `ref`; return the descriptor of the pushed top manifest.

        `mount_from` maps a blob's digest to a repository path on the same registry it is known to
        be in (for cross-repository mounts).

        Raises:
            NotFound: a blob or child manifest is missing from the store.
            Unauthorized, Forbidden: the registry refused us.
            Unavailable: the registry cannot be reached or failed.
        """
        endpoints = self.registries.endpoints(ref.domain, push=True)
        client = _first_reachable(self.registries, endpoints, credentials)
        upload = _Upload(client, ref, store, progress, dict(mount_from or {}), self)
        manifests = [image] if isinstance(image, Manifest) else [_child(store, d) for d in image.manifests]
        blobs = {
            d.digest: d for m in manifests for d in (m.config, *m.layers) if not mt.is_nondistributable(d.media_type)
        }
        for d in blobs.values():
            progress(p.Progress(d.digest, p.PREPARING))
        workers = self.registries.config.max_concurrent_uploads
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push") as pool:
            for position, d in enumerate(blobs.values()):
                if position >= workers:
                    progress(p.Progress(d.digest, p.WAITING))
            list(pool.map(upload.blob, blobs.values()))
        if isinstance(image, Index):
            for child in manifests:
                upload.manifest(child, str(child.digest))
        return upload.manifest(image, ref.object)


def _first_reachable(
    registries: Registries, endpoints: list[Endpoint], credentials: Credentials | None
) -> RegistryClient:
    """The first endpoint answering /v2/ at all (HTTPS before HTTP for insecure registries)."""
    last: Unavailable | None = None
    for endpoint in endpoints:
        client = registries.client(endpoint, credentials)
        try:
            registries.transport.send(Request("GET", client.url("/v2/"), tls=endpoint.tls)).read()
        except Unavailable as exc:
            last = exc
            continue
        registries.worked(endpoint)
        return client
    raise last or Unavailable("no endpoint to push to")


def _child(store: ContentStore, descriptor: Descriptor) -> Manifest:
    with store.open(descriptor.digest) as f:
        child = parse_manifest(descriptor.media_type, f.read())
    if not isinstance(child, Manifest):
        raise NotSupported(f"unsupported manifest media type: nested index {descriptor.digest}")
    return child


class _Upload:
    """One push's uploads to one repository."""

    def __init__(
        self,
        client: RegistryClient,
        ref: Reference,
        store: ContentStore,
        progress: p.ProgressCallback,
        mount_from: dict[Digest, str],
        pusher: Pusher,
    ) -> None:
        self.client = client
        self.ref = ref
        self.store = store
        self.progress = progress
        self.mount_from = mount_from
        self.pusher = pusher
        self.scope = (repository_scope(ref.path, "pull", "push"),)
        self._lock = threading.Lock()

    def blob(self, d: Descriptor) -> None:
        if not self.store.exists(d.digest):
            raise NotFound(f"blob {d.digest} not found in the content store")
        head = self.client.send("HEAD", f"/v2/{self.ref.path}/blobs/{d.digest}", self.scope)
        head.read()
        if head.status == 200:
            self.progress(p.Progress(d.digest, p.LAYER_EXISTS))
            return
        if head.status != 404:
            raise_for_status(head, f"checking blob {d.digest}")
        source = self.mount_from.get(d.digest)
        location = self._start(d, source)
        if location is None:
            self.progress(p.Progress(d.digest, p.MOUNTED, detail=source or ""))
            return
        if not self._put_whole(d, location):
            self._put_chunks(d, self._start(d, None) or "")
        self.progress(p.Progress(d.digest, p.PUSHED))

    def _start(self, d: Descriptor, source: str | None) -> str | None:
        """Open an upload session and return its Location; None when the blob was mounted."""
        query = "?" + urlencode({"mount": d.digest, "from": source}) if source else ""
        scopes = self.scope + ((repository_scope(source, "pull"),) if source else ())
        response = self.client.send("POST", f"/v2/{self.ref.path}/blobs/uploads/{query}", scopes)
        response.read()
        if response.status == 201 and source:
            return None
        raise_for_status(response, f"starting upload of {d.digest}")
        location = response.header("Location")
        if response.status != 202 or not location:
            raise Unavailable(f"starting upload of {d.digest}: registry answered {response.status} without Location")
        return location

    def _put_whole(self, d: Descriptor, location: str) -> bool:
        """One PUT with the whole blob; False when the registry wants chunks instead."""
        self.progress(p.Progress(d.digest, p.PUSHING, 0, d.size))
        response = self.client.send(
            "PUT",
            _with_digest(location, d.digest),
            self.scope,
            {"Content-Type": "application/octet-stream", "Content-Length": str(d.size)},
            self._reader(d),
        )
        if response.status in MONOLITHIC_REFUSED:
            response.read()
            return False
        self._finish(response, d)
        self.progress(p.Progress(d.digest, p.PUSHING, d.size, d.size))
        return True

    def _put_chunks(self, d: Descriptor, location: str) -> None:
        size = self.pusher.chunk_size
        for start in range(0, d.size, size):
            data = _read_range(self.store, d.digest, start, min(size, d.size - start))
            response = self.client.send(
                "PATCH",
                location,
                self.scope,
                {
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(len(data)),
                    "Content-Range": f"{start}-{start + len(data) - 1}",
                },
                data,
            )
            response.read()
            raise_for_status(response, f"uploading chunk of {d.digest}")
            location = response.header("Location") or location
            self.progress(p.Progress(d.digest, p.PUSHING, start + len(data), d.size))
        self._finish(self.client.send("PUT", _with_digest(location, d.digest), self.scope), d)

    def _finish(self, response: Response, d: Descriptor) -> None:
        response.read()
        raise_for_status(response, f"uploading blob {d.digest}")
        claimed = response.header("Docker-Content-Digest")
        if claimed and claimed != d.digest:
            raise VerificationFailed(f"registry stored {d.digest} as {claimed}")

    def _reader(self, d: Descriptor) -> Callable[[], BinaryIO]:
        return lambda: self.store.open(d.digest)

    def manifest(self, image: Manifest | Index, tag_or_digest: str) -> Descriptor:
        raw = image.to_bytes()
        descriptor = Descriptor(image.media_type, Digest.of(raw), len(raw))
        response = self.client.send(
            "PUT", f"/v2/{self.ref.path}/manifests/{tag_or_digest}", self.scope, {"Content-Type": image.media_type}, raw
        )
        raise_for_status(response, f"pushing manifest {self.ref.familiar()}")
        response.read()
        claimed = response.header("Docker-Content-Digest")
        if claimed and claimed != descriptor.digest:
            raise VerificationFailed(f"registry stored manifest {descriptor.digest} as {claimed}")
        return descriptor


def _with_digest(location: str, digest: Digest) -> str:
    return location + ("&" if "?" in location else "?") + urlencode({"digest": digest})


def _read_range(store: ContentStore, digest: Digest, start: int, length: int) -> bytes:
    with store.open(digest) as f:
        f.seek(start)
        return f.read(length)
