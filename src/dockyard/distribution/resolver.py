"""Resolve a reference to one image: manifest (through an index when there is one) and config.

Every manifest and config is checked against its digest: the one in the reference, the one
in the parent index, or the registry's Docker-Content-Digest header when resolving a tag.
Nothing is written; `pull()` stores what was resolved once the layers are in.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from dockyard.distribution.auth import repository_scope
from dockyard.distribution.client import Registries, RegistryClient, raise_for_status, try_endpoints
from dockyard.distribution.config import Endpoint
from dockyard.distribution.credentials import Credentials
from dockyard.distribution.transport import HandshakeFailed, Response
from dockyard.errors import DockyardError, InvalidArgument, NotFound, NotSupported, Unauthorized, Unavailable
from dockyard.oci import mediatypes as mt
from dockyard.oci.config import ImageConfig
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.manifest import Index, Manifest, parse_manifest
from dockyard.oci.platform import Platform, PlatformMatcher, host_platform
from dockyard.oci.reference import Reference

T = TypeVar("T")
MANIFEST_LIMIT = 4 << 20
CONFIG_LIMIT = 8 << 20
TAG_PAGES = 1000


class VerificationFailed(DockyardError):
    """Bytes from a registry do not match their digest or size."""


@dataclass(frozen=True, slots=True)
class ResolvedImage:
    """What a reference resolved to, and where (`endpoint`) the blobs are to be fetched from."""

    reference: Reference
    endpoint: Endpoint
    manifest_descriptor: Descriptor
    manifest: Manifest
    config_descriptor: Descriptor
    config: ImageConfig
    index_descriptor: Descriptor | None = None
    index: Index | None = None

    @property
    def digest(self) -> Digest:
        """The repo digest docker records: the index's when there is one, else the manifest's."""
        return (self.index_descriptor or self.manifest_descriptor).digest

    @property
    def layers(self) -> tuple[Descriptor, ...]:
        return self.manifest.layers


class Resolver:
    """Finds the manifest and config of a reference on its registry or a mirror of it."""

    def __init__(self, registries: Registries) -> None:
        self.registries = registries

    def resolve(
        self, ref: Reference, platform: Platform | None = None, credentials: Credentials | None = None
    ) -> ResolvedImage:
        """Resolve `ref` for `platform` (default: the host's).

        Raises:
            NotFound: no such manifest, or none for the platform.
            Unauthorized: the registry refused us.
            NotSupported: schema1 or an unknown manifest type.
            VerificationFailed: a manifest or config does not match its digest.
            Unavailable: no endpoint could be reached.
        """

        def attempt(endpoint: Endpoint) -> ResolvedImage:
            client = self.registries.client(endpoint, credentials)
            resolved = _Resolution(client, ref).run(platform)
            self.registries.worked(endpoint)
            return resolved

        return try_endpoints(self.registries.endpoints(ref.domain), attempt)

    def tags(self, ref: Reference, credentials: Credentials | None = None) -> list[str]:
        """Every tag of the repository (`pull --all-tags`), following `Link` pagination."""

        def attempt(endpoint: Endpoint) -> list[str]:
            client = self.registries.client(endpoint, credentials)
            tags: list[str] = []
            path: str | None = f"/v2/{ref.path}/tags/list"
            for _ in range(TAG_PAGES):
                if path is None:
                    break
                response = client.send("GET", path, (repository_scope(ref.path, "pull"),))
                if response.status == 401:
                    response.read()
                    raise _access_denied(ref)
                raise_for_status(response, f"listing tags of {ref.familiar_name()}")
                link = response.header("Link")
                body = response.json()
                tags += [str(t) for t in (body.get("tags") or []) if isinstance(body, dict)]
                path = next_link(link)
            return tags

        return try_endpoints(self.registries.endpoints(ref.domain), attempt)


class _Resolution:
    """One resolve against one endpoint."""

    def __init__(self, client: RegistryClient, ref: Reference) -> None:
        self.client = client
        self.ref = ref
        self.scope = (repository_scope(ref.path, "pull"),)

    def run(self, platform: Platform | None) -> ResolvedImage:
        top, top_descriptor = self.manifest(self.ref.object, self.ref.digest)
        index_descriptor, index = None, None
        if isinstance(top, Index):
            index_descriptor, index = top_descriptor, top
            wanted = platform or host_platform()
            chosen = top.select(PlatformMatcher(wanted))
            if chosen is None:
                raise NotFound(f"no matching manifest for {wanted} in the manifest list entries")
            top, top_descriptor = self.manifest(str(chosen.digest), chosen.digest, chosen.media_type, chosen.size)
            if not isinstance(top, Manifest):
                raise NotSupported(f"unsupported manifest media type: nested index {chosen.digest}")
        config = ImageConfig.from_json(self.blob(top.config))
        if index is None and platform is not None and not PlatformMatcher(platform).matches(config.platform):
            raise NotFound(
                f"image with reference {self.ref.familiar()} was found but does not match the "
                f"specified platform: wanted {platform}, actual: {config.platform}"
            )
        return ResolvedImage(
            self.ref, self.client.endpoint, top_descriptor, top, top.config, config, index_descriptor, index
        )

    def manifest(
        self, obj: str, expected: Digest | None, media_type: str = "", size: int | None = None
    ) -> tuple[Manifest | Index, Descriptor]:
        path = f"/v2/{self.ref.path}/manifests/{obj}"
        response, raw = _retrying(lambda: self._get_manifest(path))
        digest = Digest.of(raw)
        claimed = expected or _header_digest(response.header("Docker-Content-Digest"))
        if claimed is not None and digest != claimed:
            raise VerificationFailed(f"manifest verification failed for digest {claimed}: got {digest}")
        if size is not None and len(raw) != size:
            raise VerificationFailed(f"manifest {digest} is {len(raw)} bytes, its descriptor says {size}")
        declared = response.header("Content-Type") or media_type
        _check_content_type(declared, raw)
        parsed = parse_manifest(declared, raw)
        return parsed, Descriptor(parsed.media_type, digest, len(raw))

    def _get_manifest(self, path: str) -> tuple[Response, bytes]:
        response = self.client.send("GET", path, self.scope, {"Accept": ", ".join(mt.MANIFEST_ACCEPT)})
        if response.status == 404:
            response.read()
            raise NotFound(f"manifest for {self.ref.familiar()} not found: manifest unknown: manifest unknown")
        if response.status == 401:
            response.read()
            raise _access_denied(self.ref)
        raise_for_status(response, f"fetching manifest {self.ref.familiar()}")
        too_large = VerificationFailed(f"manifest for {self.ref.familiar()} is larger than {MANIFEST_LIMIT} bytes")
        declared = response.header("Content-Length")
        if declared.isdigit() and int(declared) > MANIFEST_LIMIT:
            response.close()
            raise too_large
        try:
            return response, response.read(MANIFEST_LIMIT)
        except InvalidArgument:
            raise too_large from None

    def _read(self, path: str, what: str, limit: int) -> bytes:
        response = self.client.send("GET", path, self.scope)
        raise_for_status(response, what)
        return response.read(limit)

    def blob(self, descriptor: Descriptor) -> bytes:
        """A small blob (the config), read whole and verified."""
        if descriptor.size > CONFIG_LIMIT:
            raise VerificationFailed(f"config blob {descriptor.digest} too large: {descriptor.size} bytes")
        path = f"/v2/{self.ref.path}/blobs/{descriptor.digest}"
        raw = _retrying(lambda: self._read(path, f"fetching config {descriptor.digest}", CONFIG_LIMIT))
        if len(raw) != descriptor.size or Digest.of(raw) != descriptor.digest:
            raise VerificationFailed(f"config verification failed for digest {descriptor.digest}")
        return raw


def _retrying(call: Callable[[], T], attempts: int = 3) -> T:
    """Call again when the connection broke; other errors, and a failed TLS handshake, are final."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except HandshakeFailed:
            raise
        except Unavailable:
            if attempt == attempts:
                raise
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


def next_link(header: str) -> str | None:
    """The `<url>; rel="next"` target of a Link header, or None on the last page."""
    match = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', header)
    return match.group(1) if match else None


def _check_content_type(declared: str, raw: bytes) -> None:
    """A Content-Type naming an index for a document that says it is an image manifest (or the reverse) is a lie."""
    kind = declared.split(";")[0].strip()
    if not (mt.is_manifest(kind) or mt.is_index(kind)):
        return
    try:
        inner = json.loads(raw).get("mediaType")
    except (ValueError, AttributeError):
        return  # parse_manifest names what is wrong with the bytes
    if isinstance(inner, str) and (
        mt.is_manifest(inner) and mt.is_index(kind) or mt.is_index(inner) and mt.is_manifest(kind)
    ):
        raise VerificationFailed(f"registry sent Content-Type {kind} for a manifest of media type {inner}")


def _header_digest(value: str) -> Digest | None:
    """The Docker-Content-Digest header; a malformed one is a lie like any other."""
    if not value:
        return None
    try:
        return Digest(value.strip())
    except DockyardError:
        raise VerificationFailed(f"registry sent a malformed Docker-Content-Digest: {value!r}") from None


def _access_denied(ref: Reference) -> Unauthorized:
    return Unauthorized(
        f"pull access denied for {ref.familiar_name()}, repository does not exist or "
        "may require 'docker login': denied: requested access to the resource is denied"
    )
