"""What the registry accepts as a manifest: oci's parser behind the server's stricter checks (pure).

Accepted: OCI image manifest and index, Docker schema2 manifest and manifest list; schema1 is
refused. On top of `oci.manifest`, a push must be at most 4 MiB, say schemaVersion 2, agree
with its Content-Type, and have every field of the type the spec gives it; each failure is
the spec's MANIFEST_INVALID (DIGEST_INVALID for a bad digest). The registry keeps the
original bytes; this module only reads them.
"""

from __future__ import annotations

from typing import Any

from dockyard.errors import InvalidArgument, NotSupported
from dockyard.oci import mediatypes as mt
from dockyard.oci.descriptor import Descriptor
from dockyard.oci.manifest import Index, Manifest, from_document, load_document
from dockyard.registry import errcodes
from dockyard.registry.errcodes import RegistryError
from dockyard.registry.names import parse_digest

# what the registry stores and a pull-through cache asks upstream for (no schema1)
ACCEPTED = (mt.OCI_MANIFEST, mt.DOCKER_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST_LIST)
MAX_MANIFEST_SIZE = 4 * 1024 * 1024


def blobs(manifest: Manifest | Index) -> tuple[Descriptor, ...]:
    """The blobs a manifest needs in its repository: config and layers (none for an index)."""
    return (manifest.config, *manifest.layers) if isinstance(manifest, Manifest) else ()


def children(manifest: Manifest | Index) -> tuple[Descriptor, ...]:
    """The manifests an index needs in its repository (none for an image manifest)."""
    return manifest.manifests if isinstance(manifest, Index) else ()


def parse_manifest(data: bytes, content_type: str | None) -> Manifest | Index:
    """Validate manifest bytes sent with `content_type`, and parse them.

    Raises:
        RegistryError: MANIFEST_INVALID for bad JSON, schema or media type; DIGEST_INVALID for a bad digest.
    """
    if len(data) > MAX_MANIFEST_SIZE:
        raise RegistryError(errcodes.TOO_LARGE, {"limit": MAX_MANIFEST_SIZE}, "manifest too large")
    try:
        doc = load_document(data)
    except InvalidArgument as exc:
        raise _invalid(str(exc)) from None
    if doc.get("schemaVersion") != 2:
        raise _invalid("schemaVersion must be 2")
    media_type = _media_type(doc, (content_type or "").split(";", 1)[0].strip())
    _check_fields(doc, media_type)
    try:
        return from_document(media_type, doc, data)
    except (InvalidArgument, NotSupported) as exc:
        raise _invalid(str(exc)) from None


def _invalid(reason: str) -> RegistryError:
    return RegistryError(errcodes.MANIFEST_INVALID, {"reason": reason})


def _media_type(doc: dict[str, Any], content_type: str) -> str:
    declared = doc.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise _invalid("mediaType must be a string")
    if declared in mt.SCHEMA1 or content_type in mt.SCHEMA1:
        raise RegistryError(
            errcodes.MANIFEST_INVALID,
            {"reason": "schema1 manifests are not supported"},
            "manifest invalid: schema1 is not supported",
        )
    if declared and content_type in ACCEPTED and declared != content_type:
        raise _invalid(f"mediaType {declared} does not match Content-Type {content_type}")
    found = declared or (content_type if content_type in ACCEPTED else None)
    if found is None:
        found = mt.OCI_INDEX if "manifests" in doc else mt.OCI_MANIFEST
    if found not in ACCEPTED:
        raise _invalid(f"unsupported manifest media type {found}")
    return found


def _check_fields(doc: dict[str, Any], media_type: str) -> None:
    """Every field the spec types, checked before oci builds the objects."""
    if doc.get("subject") is not None:
        _check_descriptor(doc["subject"], "subject")
    _check_artifact_type(doc, "manifest")
    _check_annotations(doc, "manifest")
    if mt.is_index(media_type):
        _check_list(doc, "manifests", required=True)
        return
    if "config" not in doc:
        raise _invalid("config missing")
    _check_descriptor(doc["config"], "config")
    _check_list(doc, "layers", required=media_type == mt.DOCKER_MANIFEST)


def _check_list(doc: dict[str, Any], key: str, required: bool) -> None:
    items = doc.get(key)
    if items is None and not required:
        return
    if not isinstance(items, list):
        raise _invalid(f"{key} must be a list")
    for i, item in enumerate(items):
        _check_descriptor(item, f"{key}[{i}]")


def _check_descriptor(doc: object, where: str) -> None:
    if not isinstance(doc, dict):
        raise _invalid(f"{where}: descriptor must be an object")
    media_type, digest, size = doc.get("mediaType"), doc.get("digest"), doc.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise _invalid(f"{where}: mediaType missing")
    if not isinstance(digest, str):
        raise _invalid(f"{where}: digest missing")
    parse_digest(digest)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _invalid(f"{where}: size must be a non-negative integer")
    _check_artifact_type(doc, where)
    urls = doc.get("urls")
    if urls is not None and not (isinstance(urls, list) and all(isinstance(u, str) for u in urls)):
        raise _invalid(f"{where}: urls must be a list of strings")
    _check_annotations(doc, where)


def _check_artifact_type(doc: dict[str, Any], where: str) -> None:
    artifact_type = doc.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise _invalid(f"{where}: artifactType must be a string")


def _check_annotations(doc: dict[str, Any], where: str) -> None:
    value = doc.get("annotations") or {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _invalid(f"{where}: annotations must map strings to strings")
