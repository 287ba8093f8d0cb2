"""Image manifests and indexes (OCI and Docker schema2), parsed and serialised with no I/O.

`parse_manifest(media_type, raw)` is the one entry point for bytes from a registry or the
content store; it keeps `raw`, whose sha256 is the manifest's digest. A caller that checks
the JSON first (the registry server) uses `load_document` and `from_document`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.errors import InvalidArgument, NotSupported
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.digest import Digest
from dockyard.oci.platform import PlatformMatcher

SCHEMA1_REMOVED = (
    "Docker Image manifest version 2, schema 1 is not supported: "
    "ask the image's author to push it as an OCI or Docker schema 2 image"
)


class _Document:
    """What manifests and indexes share: their bytes (raw when parsed), digest and descriptor."""

    __slots__ = ()
    media_type: str
    annotations: Mapping[str, str]
    artifact_type: str
    raw: bytes

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError  # each kind serialises its own fields

    @property
    def digest(self) -> Digest:
        return Digest.of(self.to_bytes())

    def to_bytes(self) -> bytes:
        """The raw bytes when parsed, else a fresh serialisation."""
        return self.raw or _dump(self.to_json())

    def descriptor(self) -> Descriptor:
        data = self.to_bytes()
        return Descriptor(self.media_type, Digest.of(data), len(data))

    def referrer(self) -> Descriptor:
        """This document as an entry of its subject's referrers index (distribution spec)."""
        data = self.to_bytes()
        kind = self.artifact_type or (self.config.media_type if isinstance(self, Manifest) else "")
        return Descriptor(self.media_type, Digest.of(data), len(data), self.annotations, artifact_type=kind)


@dataclass(frozen=True, slots=True)
class Manifest(_Document):
    """One image: its config blob and its layers, bottom first."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    raw: bytes = b""
    artifact_type: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "config": self.config.to_json(),
            "layers": [layer.to_json() for layer in self.layers],
        }
        return _optional(out, self)


@dataclass(frozen=True, slots=True)
class Index(_Document):
    """A list of manifests, one per platform (an OCI index or a Docker manifest list)."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)
    raw: bytes = b""
    subject: Descriptor | None = None
    artifact_type: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "manifests": [m.to_json() for m in self.manifests],
        }
        return _optional(out, self)

    def select(self, matcher: PlatformMatcher) -> Descriptor | None:
        """The entry that best matches the platform (containerd's choice), or None."""
        candidates = [d for d in self.manifests if d.platform is not None]
        best = matcher.best(d.platform for d in candidates if d.platform is not None)
        if best is not None:
            return candidates[best]
        untagged = [d for d in self.manifests if d.platform is None and mt.is_manifest(d.media_type)]
        return untagged[0] if untagged else None


def _optional(out: dict[str, Any], document: Manifest | Index) -> dict[str, Any]:
    """Add the fields both kinds carry only when set: artifactType, subject, annotations."""
    if document.artifact_type:
        out["artifactType"] = document.artifact_type
    if document.subject is not None:
        out["subject"] = document.subject.to_json()
    if document.annotations:
        out["annotations"] = dict(document.annotations)
    return out


def _dump(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, indent=3).encode()


def sniff_media_type(media_type: str, data: Mapping[str, Any]) -> str:
    """The media type to trust: the declared one, or the document's own when the header is generic."""
    declared = media_type.split(";")[0].strip()
    inner = data.get("mediaType")
    if data.get("schemaVersion") == 1 or declared in mt.SCHEMA1 or inner in mt.SCHEMA1:
        raise NotSupported(SCHEMA1_REMOVED)
    if declared in mt.INDEXES or declared in mt.MANIFESTS:
        return declared
    if isinstance(inner, str) and inner:
        return inner
    if "manifests" in data:
        return mt.OCI_INDEX
    if "config" in data and "layers" in data:
        return mt.OCI_MANIFEST
    return declared


def load_document(raw: bytes) -> dict[str, Any]:
    """The JSON object of a manifest's bytes. Raises InvalidArgument when it is not one."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"invalid manifest JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument("invalid manifest JSON: not a JSON object")
    return data


def parse_manifest(media_type: str, raw: bytes) -> Manifest | Index:
    """Parse a manifest or an index.

    Raises:
        NotSupported: schema1, or a media type that is neither a manifest nor an index.
        InvalidArgument: the bytes are not a well-formed manifest.
    """
    data = load_document(raw)
    return from_document(sniff_media_type(media_type, data), data, raw)


def from_document(kind: str, data: Mapping[str, Any], raw: bytes) -> Manifest | Index:
    """Build the manifest or index of media type `kind` from its loaded JSON and bytes.

    Raises:
        NotSupported: `kind` is neither a manifest nor an index.
        InvalidArgument: a required field is missing or malformed.
    """
    try:
        subject = Descriptor.from_json(data["subject"]) if data.get("subject") else None
        annotations = dict(data.get("annotations") or {})
        artifact_type = str(data.get("artifactType") or "")
        if mt.is_index(kind):
            manifests = tuple(Descriptor.from_json(m) for m in data["manifests"])
            return Index(kind, manifests, annotations, raw, subject, artifact_type)
        if mt.is_manifest(kind):
            config = Descriptor.from_json(data["config"])
            layers = tuple(Descriptor.from_json(layer) for layer in data.get("layers") or ())
            return Manifest(kind, config, layers, annotations, subject, raw, artifact_type)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"invalid manifest: missing or malformed {exc}") from None
    raise NotSupported(f"unsupported manifest media type: {kind or 'unknown'}")
