"""Manifest validation for the registry: bytes in, what they reference out (pure).

Accepted: OCI image manifest and index, Docker schema2 manifest and manifest list. Schema1 is
refused. The registry keeps the original bytes; this module only reads them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard.oci.digest import Digest
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.names import parse_digest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
IMAGE_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = IMAGE_TYPES + INDEX_TYPES
MAX_MANIFEST_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Descriptor:
    """Points at one blob or manifest: media type, digest, size, and what the referrers API shows."""

    media_type: str
    digest: Digest
    size: int
    artifact_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    external: bool = False

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"mediaType": self.media_type, "digest": str(self.digest), "size": self.size}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True, slots=True)
class Manifest:
    """A validated manifest: its type, the blobs and child manifests it needs, and its subject."""

    media_type: str
    blobs: tuple[Descriptor, ...]
    children: tuple[Descriptor, ...]
    subject: Descriptor | None
    artifact_type: str | None
    annotations: Mapping[str, str]

    def referrer(self, digest: Digest, size: int) -> Descriptor:
        """This manifest as an entry of its subject's referrers index."""
        return Descriptor(self.media_type, digest, size, self.artifact_type, self.annotations)


def _invalid(reason: str) -> RegistryError:
    return RegistryError(errcodes.MANIFEST_INVALID, {"reason": reason})


def _strip_params(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip()


def _annotations(doc: dict, where: str) -> dict[str, str]:
    value = doc.get("annotations") or {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _invalid(f"{where}: annotations must map strings to strings")
    return value


def parse_descriptor(doc: object, where: str) -> Descriptor:
    """One descriptor object, checked field by field."""
    if not isinstance(doc, dict):
        raise _invalid(f"{where}: descriptor must be an object")
    media_type, digest, size = doc.get("mediaType"), doc.get("digest"), doc.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise _invalid(f"{where}: mediaType missing")
    if not isinstance(digest, str):
        raise _invalid(f"{where}: digest missing")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _invalid(f"{where}: size must be a non-negative integer")
    artifact_type = doc.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise _invalid(f"{where}: artifactType must be a string")
    urls = doc.get("urls")
    if urls is not None and not (isinstance(urls, list) and all(isinstance(u, str) for u in urls)):
        raise _invalid(f"{where}: urls must be a list of strings")
    return Descriptor(
        media_type, parse_digest(digest), size, artifact_type, _annotations(doc, where), external=bool(urls)
    )


def _media_type(doc: dict, content_type: str) -> str:
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise _invalid("mediaType must be a string")
    if declared in DOCKER_SCHEMA1 or content_type in DOCKER_SCHEMA1:
        raise RegistryError(
            errcodes.MANIFEST_INVALID,
            {"reason": "schema1 manifests are not supported"},
            "manifest invalid: schema1 is not supported",
        )
    if declared and content_type in MANIFEST_TYPES and declared != content_type:
        raise _invalid(f"mediaType {declared} does not match Content-Type {content_type}")
    found = declared or (content_type if content_type in MANIFEST_TYPES else None)
    if found is None:
        found = OCI_INDEX if "manifests" in doc else OCI_MANIFEST
    if found not in MANIFEST_TYPES:
        raise _invalid(f"unsupported manifest media type {found}")
    return found


def _descriptor_list(doc: dict, key: str, required: bool) -> tuple[Descriptor, ...]:
    items = doc.get(key)
    if items is None and not required:
        return ()
    if not isinstance(items, list):
        raise _invalid(f"{key} must be a list")
    return tuple(parse_descriptor(item, f"{key}[{i}]") for i, item in enumerate(items))


def parse_manifest(data: bytes, content_type: str | None) -> Manifest:
    """Validate manifest bytes sent with `content_type`.

    Raises:
        RegistryError: MANIFEST_INVALID for bad JSON, schema or media type; DIGEST_INVALID for a bad digest.
    """
    if len(data) > MAX_MANIFEST_SIZE:
        raise RegistryError(errcodes.TOO_LARGE, {"limit": MAX_MANIFEST_SIZE}, "manifest too large")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid(f"malformed JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _invalid("manifest must be a JSON object")
    if doc.get("schemaVersion") != 2:
        raise _invalid("schemaVersion must be 2")
    media_type = _media_type(doc, _strip_params(content_type))
    subject = parse_descriptor(doc["subject"], "subject") if doc.get("subject") is not None else None
    artifact_type = doc.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise _invalid("artifactType must be a string")
    annotations = _annotations(doc, "manifest")
    if media_type in INDEX_TYPES:
        children = _descriptor_list(doc, "manifests", required=True)
        return Manifest(media_type, (), children, subject, artifact_type or None, annotations)
    if "config" not in doc:
        raise _invalid("config missing")
    config = parse_descriptor(doc["config"], "config")
    layers = _descriptor_list(doc, "layers", required=media_type == DOCKER_MANIFEST)
    effective = artifact_type or config.media_type
    return Manifest(media_type, (config, *layers), (), subject, effective, annotations)
